import { COMPILE_NOISE_LINES, COMPILE_SUCCESS_LINE } from '../../src/emulator/compile-deep-gemm';
import { SMOKE_TEST_NAMES } from '../../src/probes/smoke-tests';
import { WARMUP_REQUESTS } from '../../src/spec/warmup-requests';
import { HEALTH_OUTCOMES } from '../../src/probes/health-probe';
import { diagnose, hasFindings, MAX_EVIDENCE_CHARS, MAX_EVIDENCE_LINES, TRIAGE_RULES } from '../../src/triage/diagnose';
import { TROUBLESHOOTING_SCENARIOS } from '../../src/triage/troubleshooting-scenarios';
import { COMPILE_WARNINGS as WARNINGS_TABLE } from '../../src/triage/compile-warnings';

const ids = (lines: string[], extra: Partial<Parameters<typeof diagnose>[0]> = {}): string[] =>
  diagnose({ logLines: lines, ...extra }).map((d) => d.id);

describe('guide tables as data', () => {
  test('§12 has the ten rows, numbered 1..10, each with a pattern and action', () => {
    expect(WARNINGS_TABLE.map((r) => r.row)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const row of WARNINGS_TABLE) expect(row.action.length).toBeGreaterThan(5);
  });

  test('§18 has all eight scenarios with cause, diagnosis and resolution', () => {
    expect(TROUBLESHOOTING_SCENARIOS).toHaveLength(8);
    for (const s of TROUBLESHOOTING_SCENARIOS) {
      expect(s.likelyCause).not.toBe('');
      expect(s.diagnosis).not.toBe('');
      expect(s.resolution).not.toBe('');
    }
  });

  test('signal names used by the rules are ones the probes really produce', () => {
    const smokeNames = new Set<string>([...SMOKE_TEST_NAMES, 'garbled-output', 'performance-gate', 'ttft-slo']);
    const outcomes = new Set<string>(HEALTH_OUTCOMES);
    for (const rule of TRIAGE_RULES) {
      for (const name of rule.smokeFailures ?? []) expect(smokeNames).toContain(name);
      for (const outcome of rule.probeOutcomes ?? []) expect(outcomes).toContain(outcome);
    }
    expect(WARMUP_REQUESTS).toHaveLength(4);
  });
});

describe('§12 compile and runtime warnings', () => {
  test.each([
    [1, 'FastAPI ORJSONResponse is deprecated, use JSONResponse instead'],
    [2, "The following generation flags are not valid and may be ignored: ['top_p']"],
    [3, 'Unexpected error during package walk: cutlass.cute.experimental'],
    [4, 'UserWarning: torch.Tensor return type is deprecated (flashinfer.jit)'],
    [5, 'resource_tracker: There appear to be 1 leaked semaphore objects to clean up at shutdown'],
    [6, '[Gloo] Rank 0 is connected to 0 peer ranks. Expected number of connected peer ranks is : 0'],
    [7, 'DeepGEMM enabled but the scale_fmt of checkpoint is not ue8m0. This might cause accuracy degradation'],
    [8, 'KV cache dtype set to fp8_e4m3 during compile_deep_gemm on SM10'],
    [9, 'Using FP8 KV cache but no scaling factors provided. Defaulting to scaling factors of 1.0.'],
    [10, 'Force NSA prefill to use sparse MLA (i.e. disable MHA_ONE_SHOT) on Blackwell'],
  ])('row %i is recognised and labelled benign', (row, line) => {
    const result = diagnose({ logLines: [line] });
    const expectedId = `compile-warning-${WARNINGS_TABLE[row - 1]!.id}`;
    expect(result.map((d) => d.id)).toContain(expectedId);
    expect(result.find((d) => d.id === expectedId)!.severity).toBe('benign');
    expect(hasFindings(result)).toBe(false);
  });

  test("every noise line the emulator's compile twin prints is benign, and compile success is benign", () => {
    const result = diagnose({ logLines: [...COMPILE_NOISE_LINES, COMPILE_SUCCESS_LINE] });
    expect(result.length).toBeGreaterThanOrEqual(COMPILE_NOISE_LINES.length);
    expect(result.every((d) => d.severity === 'benign')).toBe(true);
    expect(result.map((d) => d.id)).toContain('deepgemm-compile-success');
  });
});

describe('§17 log triage', () => {
  test('[health] passed on attempt 1 is the benign fast path', () => {
    const result = diagnose({ logLines: ['[health] passed on attempt 1'] });
    expect(result).toEqual([expect.objectContaining({ id: 'health-fast', severity: 'benign' })]);
  });

  test.each([15, 16, 42])('[health] passed on attempt %i is a slow-start warning', (attempt) => {
    expect(ids([`[health] passed on attempt ${attempt}`])).toEqual(['health-slow']);
  });

  test.each([2, 14])('attempt %i is neither fast nor slow', (attempt) => {
    expect(ids([`[health] passed on attempt ${attempt}`])).toEqual([]);
  });

  test("code -9 with no line of SGLang's exit path → killed from outside (an operator, the platform), not an OOM", () => {
    const result = diagnose({ logLines: ['[monitor] FATAL: SGLang died (code -9)'] });
    expect(result[0]).toMatchObject({ id: 'killed-from-outside', severity: 'error', confidence: 'likely' });
    expect(result[0]!.fix).toMatch(/^find who killed the engine/);
    expect(result[0]!.evidence).toContain('[monitor] FATAL: SGLang died (code -9)');
    expect(result.map((d) => d.id)).not.toContain('engine-oom');
    expect(result.map((d) => d.id)).not.toContain('engine-exit-minus-9');
  });

  test('code -9 with the OOM line → OOM, lower mem-fraction-static 0.88 → 0.85', () => {
    const result = diagnose({
      logLines: ['torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.08 GiB.'],
      exitCode: -9,
    });
    expect(result[0]).toMatchObject({ id: 'engine-oom', severity: 'error' });
    expect(result[0]!.resolution).toContain('0.88 → 0.85');
    expect(result.map((d) => d.id)).not.toContain('engine-exit-minus-9');
  });

  test('code 137 → SIGKILL / platform kill, not OOM', () => {
    const found = ids(['[monitor] FATAL: SGLang died (code 137)']);
    expect(found[0]).toBe('platform-kill');
    expect(found).not.toContain('engine-oom');
  });

  test('the exit code from the caller counts like the monitor line', () => {
    const result = diagnose({ logLines: [], exitCode: -9 });
    expect(result[0]!.id).toBe('killed-from-outside');
    expect(result[0]!.evidence[0]).toContain("engine exit code -9 (SIGKILL: SGLang's own kill_process_tree");
  });

  test('a watchdog kill (also SIGKILL) is not called an OOM', () => {
    const found = ids([
      '[2026-01-01 00:00:00 TP0] Scheduler watchdog timeout (self.watchdog_timeout=300, self.soft=False)',
      '[monitor] FATAL: SGLang died (code -9)',
    ]);
    expect(found[0]).toBe('watchdog-timeout');
    expect(found).not.toContain('engine-oom');
  });

  test('an OOM line keeps the OOM diagnosis even next to a watchdog line', () => {
    const found = ids([
      'Scheduler watchdog timeout (self.watchdog_timeout=300)',
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.50 GiB.',
    ]);
    expect(found).toContain('engine-oom');
  });
});

describe('diagnoses fit the stage, the spec and the evidence, and say how sure they are', () => {
  const OOM =
    'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.08 GiB. GPU 0 has a total capacity of 139.80 GiB';
  const KILL_TREE = 'kill_process_tree called: parent_pid=1642, include_parent=True, pid=1642';
  const MONITOR = '[monitor] FATAL: SGLang died (code -9)';

  test('a start-up OOM: the OOM row first, confirmed, its fix from the spec\'s value; not the "after hours" 502', () => {
    const result = diagnose({
      logLines: [OOM, KILL_TREE, MONITOR, '[monitor] container exits (os._exit(1)); replacement in 1000 ms'],
      probeOutcomes: ['bad-gateway'],
      stage: 'start-up',
      launchArgs: { 'mem-fraction-static': 0.88 },
    });
    expect(result.map((d) => d.id)).toEqual(['engine-oom']);
    expect(result[0]).toMatchObject({
      confidence: 'confirmed',
      fix: 'lower --mem-fraction-static 0.88 → 0.85 (sglang.args in the spec)',
    });
  });

  test("the OOM fix follows the spec: 0.85 → 0.82; without the flag, the guide's 0.85", () => {
    const fixOf = (launchArgs: Record<string, number>) =>
      diagnose({ logLines: [OOM], launchArgs, stage: 'start-up' })[0]!.fix;
    expect(fixOf({ 'mem-fraction-static': 0.85 })).toBe(
      'lower --mem-fraction-static 0.85 → 0.82 (sglang.args in the spec)',
    );
    expect(fixOf({})).toBe('set --mem-fraction-static 0.85 in sglang.args (the guide lowers 0.88 → 0.85)');
  });

  test('a 502 crash while serving (stage serving) still gets the §18 crash-monitor scenario', () => {
    const found = ids([MONITOR], { probeOutcomes: ['bad-gateway'], stage: 'serving' });
    expect(found).toContain('crash-502');
  });

  test('an engine SIGKILLed during the smoke tests: no parser or timeout fix when the spec sets the parsers', () => {
    const result = diagnose({
      logLines: ['[fault] injected crash at serving: killed by SIGKILL', MONITOR],
      smokeFailures: ['basic-inference', 'models-list', 'tool-call', 'reasoning-content', 'metrics', 'auth-required'],
      stage: 'first-requests',
      launchArgs: { 'tool-call-parser': 'glm47', 'reasoning-parser': 'glm45', 'mem-fraction-static': 0.88 },
    });
    expect(result.map((d) => d.id)).toEqual(['killed-from-outside']);
    expect(JSON.stringify(result)).not.toMatch(/tool-call-parser|reasoning-parser|api-key/);
  });

  test('an engine killed during the warmup: the kill explains the failed requests, not a short warmup timeout', () => {
    const withKill = ids(['[monitor] FATAL: SGLang died (code 137)'], {
      warmupFailures: ['plain-chat', 'tool-call'],
      stage: 'first-requests',
    });
    expect(withKill).toEqual(['platform-kill']);
    expect(ids([], { warmupFailures: ['plain-chat'], stage: 'first-requests' })).toEqual(['warmup-failures']);
  });

  test('a failed tool-call check alone does not blame a parser the spec sets; a logged other value does', () => {
    const setParsers = { 'tool-call-parser': 'glm47', 'reasoning-parser': 'glm45' };
    expect(ids([], { smokeFailures: ['tool-call'], launchArgs: setParsers })).toEqual([]);
    expect(ids([], { smokeFailures: ['tool-call'], launchArgs: {} })).toEqual(['tool-calls-malformed']);
    const logged = "server_args=ServerArgs(model_path='/m', tool_call_parser=None, reasoning_parser='glm45')";
    const result = diagnose({ logLines: [logged], smokeFailures: ['tool-call'], launchArgs: setParsers });
    expect(result.map((d) => [d.id, d.confidence])).toEqual([['tool-calls-malformed', 'confirmed']]);
  });

  test('a symptom-only diagnosis is likely, the generic -9 row only possible', () => {
    expect(diagnose({ logLines: [], smokeFailures: ['tool-call'] })[0]!.confidence).toBe('likely');
    expect(diagnose({ logLines: [KILL_TREE], exitCode: -9 })[0]).toMatchObject({
      id: 'engine-exit-minus-9',
      confidence: 'possible',
    });
  });
});

describe('§18 troubleshooting scenarios, one named test each', () => {
  test('502 Bad Gateway after running fine for hours → crash monitor', () => {
    const result = diagnose({ logLines: [], probeOutcomes: ['bad-gateway', 'bad-gateway', 'starting'] });
    expect(result[0]).toMatchObject({ id: 'crash-502', severity: 'error' });
    expect(result[0]!.evidence).toEqual(['health probe: bad-gateway ×2']);
    expect(result[0]!.resolution).toContain('_monitor_process');
  });

  test('cold start 15+ minutes → DeepGEMM JIT at startup, pre-compile', () => {
    const result = diagnose({
      logLines: [
        '[2026-01-01 00:00:00] WARNING Entering DeepGEMM JIT Pre-Compile session: no precompiled kernels for sm100',
      ],
    });
    expect(result[0]).toMatchObject({ id: 'cold-start-jit', severity: 'warning' });
    expect(result[0]!.resolution).toContain('compile_deepgemm');
  });

  test('FileNotFoundError model weights → volume reload', () => {
    const result = diagnose({ logLines: ['FileNotFoundError: Model weights missing at /model-cache/GLM-5.1-FP8'] });
    expect(result[0]).toMatchObject({ id: 'weights-missing', severity: 'error' });
    expect(result[0]!.resolution).toContain('model_volume.reload()');
  });

  test('TTFT spikes under load → max-running-requests', () => {
    const result = diagnose({ logLines: ['Decode batch. #running-req: 48, #token: 90000, #queue-req: 17'] });
    expect(result[0]).toMatchObject({ id: 'ttft-spikes' });
    expect(result[0]!.resolution).toContain('max-running-requests');
    expect(ids(['Decode batch. #running-req: 3, #queue-req: 0'])).toEqual([]);
  });

  test('garbled output → FP8 KV cache / trtllm backends', () => {
    const result = diagnose({
      logLines: [
        '[2026-12-01 08:12:03] KV Cache is allocated. dtype: torch.float8_e4m3fn, #tokens: 8192, K size: 0.00 GB',
      ],
    });
    expect(result[0]).toMatchObject({ id: 'garbled-output', severity: 'error' });
    expect(result[0]!.resolution).toContain('TRT-LLM');
    expect(ids(['server_args=ServerArgs(modelPath="/m", nsaDecodeBackend="flashmla_kv")'])).toContain('garbled-output');
    expect(
      ids([
        'server_args=ServerArgs(modelPath="/m", nsaDecodeBackend="trtllm", toolCallParser="glm47", reasoningParser="glm45")',
      ]),
    ).toEqual([]);
  });

  test('warmup 500s or timeouts → raise warmup timeout to 600 s', () => {
    const result = diagnose({
      logLines: ['[TP0] Capture cuda graph begin. This can take up to several minutes. shape=think|chat|short'],
      warmupFailures: ['plain-chat', 'long-context'],
    });
    expect(result[0]).toMatchObject({ id: 'warmup-failures', severity: 'error' });
    expect(result[0]!.evidence[0]).toBe('warmup failed: plain-chat, long-context');
    expect(result[0]!.evidence[1]).toContain('Capture cuda graph begin');
    expect(result[0]!.resolution).toContain('600s');
    // Capture lines alone are normal start-up, not a finding.
    expect(ids(['Capture cuda graph begin. shape=x'])).toEqual([]);
  });

  test('tool calls malformed → --tool-call-parser glm47', () => {
    expect(ids([], { smokeFailures: ['tool-call'] })).toEqual(['tool-calls-malformed']);
    expect(ids(["server_args=ServerArgs(model_path='/m', tool_call_parser=None, reasoning_parser='glm45')"])).toEqual([
      'tool-calls-malformed',
    ]);
    expect(
      ids(["server_args=ServerArgs(model_path='/m', tool_call_parser='glm45', reasoning_parser='glm45')"]),
    ).toEqual(['tool-calls-malformed']);
  });

  test('empty reasoning_content → --reasoning-parser glm45', () => {
    const result = diagnose({ logLines: [], smokeFailures: ['reasoning-content'] });
    expect(result[0]).toMatchObject({ id: 'reasoning-empty' });
    expect(result[0]!.resolution).toContain('--reasoning-parser glm45');
    expect(ids(['server_args=ServerArgs(modelPath="/m", toolCallParser="glm47")'])).toEqual(['reasoning-empty']);
  });
});

describe('ordering, evidence and secrets', () => {
  test('benign noise never outranks a finding, whatever the line order', () => {
    const result = diagnose({
      logLines: [
        'FastAPI ORJSONResponse is deprecated',
        '[health] passed on attempt 1',
        'Entering DeepGEMM JIT Pre-Compile session',
        'FileNotFoundError: Model weights missing at /model-cache/GLM-5.1-FP8',
      ],
    });
    const severities = result.map((d) => d.severity);
    expect(severities).toEqual(
      [...severities].sort(
        (a, b) => ['error', 'warning', 'benign'].indexOf(a) - ['error', 'warning', 'benign'].indexOf(b),
      ),
    );
    expect(result[0]!.id).toBe('weights-missing');
    expect(result[1]!.id).toBe('cold-start-jit');
    expect(result.at(-1)!.severity).toBe('benign');
  });

  test('evidence is capped and truncated', () => {
    const long = `[monitor] FATAL: SGLang died (code -9) ${'x'.repeat(1000)}`;
    const result = diagnose({ logLines: Array.from({ length: 20 }, (_, i) => `${long} ${i}`) });
    const oom = result.find((d) => d.id === 'killed-from-outside')!;
    expect(oom.evidence).toHaveLength(MAX_EVIDENCE_LINES + 1);
    expect(oom.evidence.at(-1)).toBe('(+15 more matching lines)');
    for (const line of oom.evidence) expect(line.length).toBeLessThanOrEqual(MAX_EVIDENCE_CHARS);
  });

  test('API keys never reach the evidence', () => {
    const secret = 'sk-very-secret-value-123';
    const result = diagnose({
      logLines: [
        `server_args=ServerArgs(model_path='/m', api_key='${secret}', tool_call_parser=None)`,
        `FileNotFoundError: model weights missing; request had Authorization: Bearer ${secret}`,
        `[warmup] failed with key ${secret}`,
      ],
      secrets: [secret],
    });
    expect(result.length).toBeGreaterThan(0);
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(JSON.stringify(result)).toContain('***');
  });

  test('multi-line chunks are split into lines before matching', () => {
    expect(ids(['ok line\n[monitor] FATAL: SGLang died (code 137)\nmore'])).toContain('platform-kill');
  });

  test('a clean log yields nothing', () => {
    expect(
      diagnose({ logLines: ['INFO:     Application startup complete.', 'The server is fired up and ready to roll!'] }),
    ).toEqual([]);
  });
});
