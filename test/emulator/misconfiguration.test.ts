import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
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
  waitForHealth,
} from '../helpers/emulator-fixture';
import { waitFor } from '../helpers/wait-for';

// The guide's troubleshooting scenarios (§18) and flag mitigations (§3, §5, §14), one named test each.
describe('misconfiguration symptoms in a child process (exit semantics)', () => {
  const children: ChildEmulator[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });
  const run = (argv: string[], env: NodeJS.ProcessEnv) => {
    const child = spawnEmulator(argv, env);
    children.push(child);
    return child;
  };

  test('stale volume: a shard missing → a scheduler FileNotFoundError, then SGLang kills itself (-9)', async () => {
    const dir = makeModelDir({ shards: 4, dropShard: true });
    const child = run(guideArgv(dir), fastEnv());
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expectInOrder(child.output(), [
      'Scheduler hit an exception: Traceback (most recent call last):',
      `FileNotFoundError: [Errno 2] No such file or directory: '${dir}/model-00004-of-00004.safetensors'`,
      'Received sigquit from a child process. It usually means the child failed.',
      'kill_process_tree called: parent_pid=',
    ]);
    expect(child.output()).not.toContain('Uvicorn running');
  });

  test('no config.json → the main process fails before any scheduler starts, exit 1', async () => {
    const child = run(guideArgv(makeModelDir({ noConfig: true })), fastEnv());
    expect((await child.exit).code).toBe(1);
    expect(child.output()).toContain('does not appear to have a file named config.json');
  });

  test("FP8 KV cache with EAGLE: FP8 pools logged as recorded, then the guide's #22359 crash (-9)", async () => {
    const child = run(guideArgv(makeModelDir(), ['--kv-cache-dtype', 'fp8_e4m3']), fastEnv());
    expect((await child.exit).signal).toBe('SIGKILL');
    expectInOrder(child.output(), [
      'Using FP8 KV cache but no scaling factors provided. Defaulting to scaling factors of 1.0.',
      'Load weight end',
      'KV Cache is allocated. dtype: torch.float8_e4m3fn',
      'Capture target verify CUDA graph begin',
      '#22359',
      'kill_process_tree called',
    ]);
  });

  test('a watchdog shorter than the weight load does not kill the load (it guards forward passes, as recorded)', async () => {
    const child = run(
      withFlag(guideArgv(makeModelDir()), '--watchdog-timeout', '120'),
      fastEnv({ phases: { weightLoadMs: 240_000 } }),
    );
    await waitForHealth(await child.url);
    expect(child.output()).not.toMatch(/Scheduler watchdog timeout/);
    child.kill();
  });

  test('mem-fraction-static too high for the GPU → CUDA OOM in the scheduler, port never opened, SIGKILL (-9)', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv({}, { GLM_OPS_EMULATOR_GPU: 'H200' }));
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expectInOrder(child.output(), [
      'Memory pool end. avail mem=',
      'Scheduler hit an exception',
      'torch.OutOfMemoryError: CUDA out of memory',
      'kill_process_tree called',
    ]);
    expect(child.output()).not.toContain('Uvicorn running');
  });

  test('the same mem-fraction fits on B200 (0.88 is the guide default)', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv());
    const url = await child.url;
    await waitForHealth(url);
    child.kill();
  });

  test('no DeepGEMM cache for the GPU arch → JIT compile at start-up before the port opens; a cache hit skips it', async () => {
    const config = { phases: { weightLoadMs: 1_000, deepGemmCompileMs: 1_000_000, graphCaptureMs: 0 } };
    const cold = run(guideArgv(makeModelDir()), fastEnv(config, { SGLANG_DG_CACHE_DIR: makeKernelCache('sm90') }));
    const warm = run(guideArgv(makeModelDir()), fastEnv(config));
    await Promise.all([waitForHealth(await cold.url), waitForHealth(await warm.url)]);
    expectInOrder(cold.output(), [
      'Entering DeepGEMM JIT Pre-Compile session',
      'DeepGEMM JIT Pre-Compile session finished.',
      'Uvicorn running',
    ]);
    expect(warm.output()).toContain('DeepGEMM: loaded precompiled kernels for sm100');
    expect(warm.output()).not.toContain('JIT Pre-Compile');
    // The JIT phase sleeps its (scaled) compile time: a lower bound on the emulated start-up, never flaky.
    expect(schedulerE2eSeconds(cold.output())).toBeGreaterThanOrEqual(1_000);
    cold.kill();
    warm.kill();
  });

  test('DG_JIT_CACHE_DIR alone is ignored, as SGLang overwrites it with SGLANG_DG_CACHE_DIR (~/.cache/deep_gemm)', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-emu-home-'));
    const child = run(
      guideArgv(makeModelDir()),
      fastEnv({}, { SGLANG_DG_CACHE_DIR: '', DG_JIT_CACHE_DIR: makeKernelCache(), HOME: home }),
    );
    await waitForHealth(await child.url);
    expect(child.output()).toContain(`no precompiled kernels for sm100 in ${path.join(home, '.cache', 'deep_gemm')}`);
    child.kill();
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

  test('SIGTERM once serving: drain, then SGLang kills itself (SIGKILL, returncode -9), as recorded', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv());
    await waitForHealth(await child.url);
    child.child.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expectInOrder(child.output(), [
      'SIGTERM received. signum=None frame=None. Draining requests and shutting down...',
      'Gracefully exiting... Remaining number of requests 0.',
      'kill_process_tree called',
    ]);
  });

  test('SIGTERM while still loading: the default action (signal SIGTERM, returncode -15), as recorded', async () => {
    const child = run(guideArgv(makeModelDir()), fastEnv({ phases: { weightLoadMs: 600_000 } }));
    await waitForOutput(child, 'Load weight begin');
    child.child.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  test("the port taken by the time SGLang binds it → uvicorn's bind error, exit 1", async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const child = run(withFlag(guideArgv(makeModelDir()), '--port', String(port)), fastEnv());
      expect((await child.exit).code).toBe(1);
      expect(child.output()).toContain(
        `ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', ${port}): address already in use`,
      );
    } finally {
      squatter.close();
    }
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

/** The emulated `scheduler_e2e` of the `Engine startup timings` line (unscaled seconds). */
function schedulerE2eSeconds(output: string): number {
  const match = /Engine startup timings \(s\): .*scheduler_e2e=([\d.]+)/.exec(output);
  if (!match) throw new Error('no Engine startup timings line');
  return Number(match[1]);
}

async function waitForOutput(child: ChildEmulator, text: string): Promise<void> {
  await waitFor(() => child.output().includes(text), { what: `"${text}" in the output`, pollMs: 10 });
}

/** Asserts the markers appear in the text in this order. */
function expectInOrder(text: string, markers: string[]): void {
  let from = 0;
  for (const marker of markers) {
    const at = text.indexOf(marker, from);
    expect({ marker, found: at >= 0 }).toEqual({ marker, found: true });
    from = at + marker.length;
  }
}
