import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtCliEntry } from '../helpers/built-lib';
import { diagnose, hasFindings } from '../../src/triage/diagnose';

const API_KEY = 'sk-triage-capture-77b1';

interface Captured {
  lines: string[];
  /** Python-style returncode: negative signal number for a signal death. */
  returncode: number | null;
}

function modelDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-triage-model-'));
  fs.writeFileSync(path.join(dir, 'config.json'), '{}');
  return dir;
}

function kernelCache(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-triage-dg-'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ smArch: 'sm100' }));
  return dir;
}

/**
 * Runs `glm-ops emulator` as a child process and collects stdout+stderr until it exits by itself or prints that it
 * serves (then `onReady`, by default a SIGTERM). Returns the lines and the returncode the crash monitor would report.
 */
async function captureEmulator(
  flags: string[],
  config: object,
  env: Record<string, string> = {},
  onReady: (url: string, stop: () => void) => void = (_url, stop) => stop(),
): Promise<Captured> {
  const child = spawn(process.execPath, [builtCliEntry(), 'emulator', '--port', '0', '--api-key', API_KEY, ...flags], {
    env: {
      ...process.env,
      GLM_OPS_EMULATOR_TIME_SCALE: '0.01',
      GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify({
        phases: { weightLoadMs: 5_000, deepGemmCompileMs: 4_000 },
        ...config,
      }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let isReady = false;
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    if (isReady || !text.includes('fired up and ready to roll')) return;
    isReady = true;
    const url = /Uvicorn running on (http:\/\/\S+)/.exec(text)![1]!;
    onReady(url, () => child.kill('SIGTERM'));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const returncode = await new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(signal ? -(os.constants.signals[signal] ?? 0) : code)),
  );
  clearTimeout(killTimer);
  return { lines: text.split('\n').filter(Boolean), returncode };
}

const findingIds = (captured: Captured, extra: { exitCode?: number } = {}) =>
  diagnose({ logLines: captured.lines, secrets: [API_KEY], ...extra })
    .filter((d) => d.severity !== 'benign')
    .map((d) => d.id);

// Fails with what to run when lib/ is missing or stale (the CLI runs from there).
beforeAll(() => builtCliEntry());

test('a healthy start with cached kernels: only benign noise, labelled benign', async () => {
  const captured = await captureEmulator(
    ['--model-path', modelDir(), '--tool-call-parser', 'glm47', '--reasoning-parser', 'glm45', '--enable-metrics'],
    {},
    { SGLANG_DG_CACHE_DIR: kernelCache() },
  );
  const result = diagnose({ logLines: captured.lines });
  expect(hasFindings(result)).toBe(false);
  expect(result.map((d) => d.id)).toEqual(
    expect.arrayContaining(['compile-warning-deepgemm-scale-fmt', 'deepgemm-compile-success', 'sigterm-shutdown']),
  );
});

test('no kernel cache → JIT compile at start-up → cold start 15+ min (§18)', async () => {
  const captured = await captureEmulator(
    ['--model-path', modelDir(), '--tool-call-parser', 'glm47', '--reasoning-parser', 'glm45'],
    {},
    { SGLANG_DG_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-triage-nodg-')) },
  );
  expect(findingIds(captured)).toEqual(['cold-start-jit']);
});

test('no config.json in the model folder → weights-missing → volume reload (§18)', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-triage-empty-'));
  const captured = await captureEmulator(
    ['--model-path', empty, '--tool-call-parser', 'glm47', '--reasoning-parser', 'glm45'],
    {},
  );
  expect(captured.returncode).toBe(1);
  expect(findingIds(captured, { exitCode: 1 })[0]).toBe('weights-missing');
});

test('mem-fraction-static too high → OOM, exit -9 → lower 0.88 → 0.85 (§17)', async () => {
  const captured = await captureEmulator(
    [
      '--model-path',
      modelDir(),
      '--mem-fraction-static',
      '0.97',
      '--tool-call-parser',
      'glm47',
      '--reasoning-parser',
      'glm45',
    ],
    {},
  );
  expect(captured.returncode).toBe(-9);
  const result = diagnose({ logLines: captured.lines, exitCode: captured.returncode! });
  expect(result[0]!.id).toBe('engine-oom');
  expect(result[0]!.evidence.join('\n')).toContain('CUDA out of memory');
});

test('a forward stalled past --watchdog-timeout → the watchdog kills it (-9), diagnosed as watchdog, not OOM', async () => {
  const captured = await captureEmulator(
    [
      '--model-path',
      modelDir(),
      '--watchdog-timeout',
      '10',
      '--tool-call-parser',
      'glm47',
      '--reasoning-parser',
      'glm45',
    ],
    {
      phases: { weightLoadMs: 60_000 },
      faults: [{ kind: 'hang', at: 'serving', afterRequests: 1, mode: 'scheduler' }],
    },
    { SGLANG_DG_CACHE_DIR: kernelCache() },
    (url) =>
      void fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'stall' }], max_tokens: 8 }),
      }).catch(() => undefined),
  );
  expect(captured.returncode).toBe(-9);
  // The 60 s load under a 10 s watchdog did not kill it: the watchdog guards forward passes (as recorded).
  expect(captured.lines.some((l) => l.includes('fired up and ready to roll'))).toBe(true);
  const ids = findingIds(captured, { exitCode: -9 });
  expect(ids[0]).toBe('watchdog-timeout');
  expect(ids).not.toContain('engine-oom');
});

test('EAGLE + FP8 KV cache → #22359 crash → garbled-output scenario (FP8 KV / trtllm)', async () => {
  const captured = await captureEmulator(
    [
      '--model-path',
      modelDir(),
      '--kv-cache-dtype',
      'fp8_e4m3',
      '--speculative-algorithm',
      'EAGLE',
      '--tool-call-parser',
      'glm47',
      '--reasoning-parser',
      'glm45',
    ],
    {},
    { SGLANG_DG_CACHE_DIR: kernelCache() },
  );
  expect(captured.returncode).toBe(-9);
  expect(findingIds(captured, { exitCode: -9 })).toContain('garbled-output');
});

test('missing parsers show in the server_args line → tool and reasoning scenarios, key masked', async () => {
  const captured = await captureEmulator(['--model-path', modelDir()], {}, { SGLANG_DG_CACHE_DIR: kernelCache() });
  const result = diagnose({ logLines: captured.lines });
  expect(result.map((d) => d.id).slice(0, 2)).toEqual(['tool-calls-malformed', 'reasoning-empty']);
  expect(JSON.stringify(result)).not.toContain(API_KEY);
});

test('an injected platform kill (exit 137) → SIGKILL / platform kill', async () => {
  const captured = await captureEmulator(
    ['--model-path', modelDir(), '--tool-call-parser', 'glm47', '--reasoning-parser', 'glm45'],
    { faults: [{ kind: 'crash', at: 'loading', afterMs: 1_000, exitCode: 137 }] },
  );
  expect(captured.returncode).toBe(137);
  expect(findingIds(captured, { exitCode: 137 })[0]).toBe('platform-kill');
});
