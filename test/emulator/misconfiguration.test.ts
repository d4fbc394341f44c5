import {
  compileProcessEntry,
  fastEnv,
  guideArgv,
  launchReady,
  makeKernelCache,
  makeModelDir,
  spawnEmulator,
  chat,
  withFlag,
  withoutFlag,
  type ChildEmulator,
} from './emulator-fixture';

// The guide's troubleshooting scenarios (§18) and flag mitigations (§3, §5, §14), one named test each.
describe('misconfiguration symptoms in a child process (exit semantics)', () => {
  let entry: string;
  const children: ChildEmulator[] = [];
  beforeAll(async () => {
    entry = await compileProcessEntry();
  }, 60_000);
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });
  const run = (argv: string[], env: NodeJS.ProcessEnv) => {
    const child = spawnEmulator(entry, argv, env);
    children.push(child);
    return child;
  };

  test('stale volume: weights missing → "FileNotFoundError: Model weights missing at <path>", exit 1', async () => {
    const dir = makeModelDir({ shards: 4, dropShard: true });
    const child = run(guideArgv(dir), fastEnv());
    expect(await child.exit).toEqual({ code: 1, signal: null });
    expect(child.output()).toContain(`FileNotFoundError: Model weights missing at ${dir}`);
  });

  test('no config.json → FileNotFoundError, exit 1', async () => {
    const child = run(guideArgv(makeModelDir({ noConfig: true })), fastEnv());
    expect((await child.exit).code).toBe(1);
    expect(child.output()).toContain('FileNotFoundError: Model weights missing');
  });

  test('FP8 KV cache with EAGLE crashes on load (SGLang #22359)', async () => {
    const child = run(guideArgv(makeModelDir(), ['--kv-cache-dtype', 'fp8_e4m3']), fastEnv());
    expect((await child.exit).code).toBe(1);
    expect(child.output()).toContain('#22359');
    expect(child.output()).toContain('Load weight end');
  });

  test('watchdog shorter than the weight load → killed mid-load (SIGKILL)', async () => {
    const child = run(
      withFlag(guideArgv(makeModelDir()), '--watchdog-timeout', '120'),
      fastEnv({ phases: { weightLoadMs: 240_000 } }),
    );
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(child.output()).toContain('Scheduler watchdog timeout (self.watchdog_timeout=120');
    expect(child.output()).not.toContain('Load weight end');
  });

  test('mem-fraction-static too high for the GPU → OOM line, then killed with SIGKILL (code -9)', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv({}, { GLM_OPS_EMULATOR_GPU: 'H200' }));
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(child.output()).toMatch(/torch\.OutOfMemoryError: CUDA out of memory/);
  });

  test('the same mem-fraction fits on B200 (0.88 is the guide default)', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv());
    const url = await child.url;
    await waitForHealth(url);
    child.kill();
  });

  test('no DeepGEMM cache for the GPU arch → JIT compile at start-up, logged, and much slower than a cache hit', async () => {
    const config = { phases: { weightLoadMs: 100_000, deepGemmCompileMs: 1_000_000, graphCaptureMs: 0 } };
    const cold = run(
      guideArgv(makeModelDir()),
      fastEnv(config, { DG_JIT_CACHE_DIR: makeKernelCache('sm90'), GLM_OPS_EMULATOR_TIME_SCALE: '0.002' }),
    );
    const warm = run(guideArgv(makeModelDir()), fastEnv(config, { GLM_OPS_EMULATOR_TIME_SCALE: '0.002' }));
    const [coldMs, warmMs] = await Promise.all([timeToHealthy(cold), timeToHealthy(warm)]);
    expect(cold.output()).toContain('Entering DeepGEMM JIT Pre-Compile session');
    expect(warm.output()).toContain('DeepGEMM: loaded precompiled kernels for sm100');
    expect(warm.output()).not.toContain('JIT Pre-Compile');
    expect(coldMs - warmMs).toBeGreaterThan(1_000);
  });

  test('bad emulator config → exit 2 naming the field', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv({ faults: [{ kind: 'crash', at: 'sometime' }] }));
    expect((await child.exit).code).toBe(2);
    expect(child.output()).toContain('faults.0.at');
  });

  test('bad flag value → exit 2 naming the flag', async () => {
    const child = run(withFlag(guideArgv(makeModelDir()), '--port', 'abc'), fastEnv());
    expect((await child.exit).code).toBe(2);
    expect(child.output()).toContain('--port');
  });

  test('bad time scale → exit 2 naming GLM_OPS_EMULATOR_TIME_SCALE', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv({}, { GLM_OPS_EMULATOR_TIME_SCALE: 'fast' }));
    expect((await child.exit).code).toBe(2);
    expect(child.output()).toContain('GLM_OPS_EMULATOR_TIME_SCALE');
  });

  test('SIGTERM shuts down cleanly with exit 0', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv());
    await waitForHealth(await child.url);
    child.child.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: 0, signal: null });
  });
});

describe('misconfiguration symptoms over HTTP (in-process)', () => {
  const ask = { messages: [{ role: 'user', content: 'call get_weather for Paris' }], max_tokens: 500 };
  const tools = [
    {
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    },
  ];

  test('no --tool-call-parser → tool calls come back as malformed text, no tool_calls', async () => {
    const emulator = await launchReady(withoutFlag(guideArgv(makeModelDir()), '--tool-call-parser'), fastEnv());
    try {
      const { json } = await chat(emulator.url, { ...ask, tools });
      const choice = json.choices[0];
      expect(choice.message.tool_calls).toBeNull();
      expect(choice.finish_reason).toBe('stop');
      expect(choice.message.content).toContain('<tool_call>get_weather');
      expect(() => JSON.parse(choice.message.content)).toThrow();
    } finally {
      await emulator.close();
    }
  });

  test('no --reasoning-parser → reasoning_content empty even with thinking on (raw <think> in content)', async () => {
    const emulator = await launchReady(withoutFlag(guideArgv(makeModelDir()), '--reasoning-parser'), fastEnv());
    try {
      const { json } = await chat(emulator.url, {
        messages: [{ role: 'user', content: 'think about it' }],
        max_tokens: 500,
      });
      expect(json.choices[0].message.reasoning_content ?? '').toBe('');
      expect(json.choices[0].message.content).toContain('<think>');
    } finally {
      await emulator.close();
    }
  });

  test('FP8 KV on Blackwell with a non-trtllm decode backend → garbled output', async () => {
    const argv = withFlag(
      withoutFlag(
        withoutFlag(withoutFlag(guideArgv(makeModelDir()), '--speculative-algorithm'), '--speculative-num-steps'),
        '--speculative-num-draft-tokens',
      ),
      '--nsa-decode-backend',
      'flashmla_kv',
    );
    const garbled = await launchReady([...argv, '--kv-cache-dtype', 'fp8_e4m3'], fastEnv());
    const clean = await launchReady(
      withFlag([...argv, '--kv-cache-dtype', 'fp8_e4m3'], '--nsa-decode-backend', 'trtllm'),
      fastEnv(),
    );
    try {
      const request = { messages: [{ role: 'user', content: 'Hi' }], chat_template_kwargs: { enable_thinking: false } };
      const bad = (await chat(garbled.url, request)).json.choices[0].message.content as string;
      const good = (await chat(clean.url, request)).json.choices[0].message.content as string;
      expect(good).toMatch(/^[A-Z][a-zA-Z ]+\.$/);
      expect(bad).not.toMatch(/^[A-Z][a-zA-Z ]+\.$/);
      expect(bad).toMatch(/<\|endoftext\|>|Ġ|\uFFFD|Ċ|的|ÃÂ/);
    } finally {
      await Promise.all([garbled.close(), clean.close()]);
    }
  });
});

async function waitForHealth(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url}/health never returned 200`);
}

async function timeToHealthy(child: ChildEmulator): Promise<number> {
  const started = Date.now();
  await waitForHealth(await child.url, 20_000);
  const elapsed = Date.now() - started;
  child.kill();
  return elapsed;
}
