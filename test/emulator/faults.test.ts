import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serverLines } from '../helpers/sglang-recordings';
import {
  chat,
  fastEnv,
  guideArgv,
  launch,
  launchReady,
  makeModelDir,
  spawnEmulator,
  withFlag,
  type ChildEmulator,
  waitForHealth,
} from '../helpers/emulator-fixture';

const KEY = 'sk-fault-key';

describe('fault plan: crashes in a child process', () => {
  const children: ChildEmulator[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });
  const run = (faults: unknown[], extra: Record<string, unknown> = {}) => {
    const child = spawnEmulator(guideArgv(makeModelDir()), fastEnv({ faults, ...extra }));
    children.push(child);
    return child;
  };

  test('crash during loading with exit code 137 (platform kill)', async () => {
    const child = run([{ kind: 'crash', at: 'loading', afterMs: 1_000, exitCode: 137 }]);
    expect(await child.exit).toEqual({ code: 137, signal: null });
    expect(child.output()).toContain('injected crash at loading');
    expect(child.output()).not.toContain('ready to roll');
  });

  test('crash during the DeepGEMM compile with SIGKILL', async () => {
    const child = spawnEmulator(
      guideArgv(makeModelDir()),
      fastEnv({ faults: [{ kind: 'crash', at: 'compiling', signal: 'SIGKILL' }] }, { SGLANG_DG_CACHE_DIR: emptyDir() }),
    );
    children.push(child);
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(child.output()).toContain('injected crash at compiling');
    expect(child.output()).not.toContain('Uvicorn running');
  });

  test('CUDA OOM while serving after N requests: traceback, SIGQUIT, 5 s pause, kill_process_tree, SIGKILL (-9)', async () => {
    const child = run([{ kind: 'crash', at: 'serving', afterRequests: 3, oom: true }]);
    const url = await child.url;
    await waitForHealth(url);
    for (let i = 0; i < 2; i++)
      expect((await chat(url, { messages: [{ role: 'user', content: `r${i}` }] })).status).toBe(200);
    await expect(chat(url, { messages: [{ role: 'user', content: 'the third' }] })).rejects.toThrow();
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expectInOrder(child.output(), [
      'Scheduler hit an exception: Traceback (most recent call last):',
      'torch.OutOfMemoryError: CUDA out of memory',
      'SIGQUIT received. signum=None, frame=None. It usually means one child failed.',
      'Sleeping 5 seconds before crash diagnostics to let GPU activity settle.',
      'No live scheduler processes found; skipping py-spy and CUDA coredump.',
      'kill_process_tree called: parent_pid=',
    ]);
  });

  test('the scheduler SIGKILLed while serving (OOM killer): stream cut, /health silent, then -9, as recorded', async () => {
    const withKey = spawnEmulator(
      guideArgv(makeModelDir(), ['--api-key', KEY]),
      // 0.1: the 20 000-token stream lasts tens of seconds, so the crash lands mid-stream even when the fault request
      // waits seconds on a loaded machine (at 0.02 the whole stream once finished first).
      fastEnv({ control: { enabled: true } }, { GLM_OPS_EMULATOR_TIME_SCALE: '0.1' }),
    );
    children.push(withKey);
    const url = await withKey.url;
    await waitForHealth(url);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'long' }],
        max_tokens: 20_000,
        ignore_eos: true,
        stream: true,
      }),
    });
    // Crash only once tokens flow, so the cut lands mid-stream however busy the machine is.
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    const stream = readRest(reader);
    await fetch(`${url}/emulator/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ faults: [{ kind: 'crash', target: 'scheduler' }] }),
    });
    // During SGLang's 5 s diagnostics pause nothing answers, not even /health.
    await expect(fetchWithTimeout(`${url}/health`, 20)).rejects.toThrow();
    const streamed = await stream.catch((err: Error) => `cut: ${err.message}`);
    expect(streamed).not.toContain('[DONE]');
    expect(await withKey.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expectInOrder(withKey.output(), [
      'Subprocess scheduler_0 (pid=',
      'crashed with exit code -9. Triggering SIGQUIT for cleanup...',
      'SIGQUIT received. signum=None, frame=None. It usually means one child failed.',
      'No live scheduler processes found; skipping py-spy and CUDA coredump.',
      'kill_process_tree called: parent_pid=',
    ]);
    await expect(fetchWithTimeout(`${url}/health`, 300)).rejects.toThrow();
  });

  test('crash while serving after a delay with exit code 1', async () => {
    const child = run([{ kind: 'crash', at: 'serving', afterMs: 50_000, exitCode: 1 }]);
    await waitForHealth(await child.url);
    expect(await child.exit).toEqual({ code: 1, signal: null });
  });
});

describe('fault plan: hangs, 5xx and the control endpoint (in-process)', () => {
  test('process hang: nothing answers, not even /health', async () => {
    const emulator = await launchReady(
      guideArgv(makeModelDir()),
      fastEnv({ faults: [{ kind: 'hang', at: 'serving', afterRequests: 1 }] }),
    );
    try {
      await expect(fetchWithTimeout(`${emulator.url}/v1/chat/completions`, 300, chatInit())).rejects.toThrow();
      await expect(fetchWithTimeout(`${emulator.url}/health`, 300)).rejects.toThrow();
    } finally {
      await emulator.close();
    }
  });

  test('scheduler hang: /health answers 503 after the health-check timeout; chats stall', async () => {
    const emulator = await launchReady(
      guideArgv(makeModelDir()),
      fastEnv({
        faults: [{ kind: 'hang', at: 'serving', afterMs: 0, mode: 'scheduler' }],
        phases: { healthCheckTimeoutMs: 20_000, graphCaptureMs: 0 },
      }),
    );
    try {
      const started = Date.now();
      expect((await fetch(`${emulator.url}/health`)).status).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(15);
      expect(emulator.logs.join('\n')).toContain('Health check failed');
      await expect(
        fetchWithTimeout(`${emulator.url}/v1/chat/completions`, 300, chatInit()).then((r) => r.text()),
      ).rejects.toThrow();
    } finally {
      await emulator.close();
    }
  });

  test('a slow load never trips the watchdog: it guards forward passes, not the load (as recorded)', async () => {
    const emulator = await launchReady(
      withFlag(guideArgv(makeModelDir()), '--watchdog-timeout', '120'),
      fastEnv({ faults: [{ kind: 'slow-load', factor: 6 }], phases: { weightLoadMs: 240_000, graphCaptureMs: 0 } }),
    );
    try {
      expect((await fetch(`${emulator.url}/health`)).status).toBe(200);
      expect(emulator.logs.join('\n')).not.toMatch(/Scheduler watchdog timeout/);
    } finally {
      await emulator.close();
    }
  });

  test('a forward that stalls past --watchdog-timeout fires the watchdog, then SGLang kills itself (-9), as recorded', async () => {
    const emulator = await launch(
      withFlag(guideArgv(makeModelDir()), '--watchdog-timeout', '1'),
      fastEnv(
        {
          faults: [{ kind: 'hang', at: 'serving', afterRequests: 1, mode: 'scheduler' }],
          phases: { weightLoadMs: 5_000 },
        },
        { GLM_OPS_EMULATOR_TIME_SCALE: '0.01' },
      ),
    );
    try {
      await emulator.ready;
      // The load took longer than the 1 s watchdog: no kill then.
      expect(emulator.logs.join('\n')).not.toMatch(/Scheduler watchdog timeout/);
      const stalled = fetchWithTimeout(`${emulator.url}/v1/chat/completions`, 5_000, chatInit()).catch(() => 'cut');
      const exit = await emulator.exited;
      expect(exit.signal).toBe('SIGKILL');
      await stalled;
      const recorded = serverLines('cpu/watchdog1.condensed.log');
      const markers = [
        'Scheduler watchdog timeout (self.watchdog_timeout=1.0, self.soft=False)',
        'SIGQUIT received. signum=None, frame=None. It usually means one child failed.',
        'Sleeping 5 seconds before crash diagnostics to let GPU activity settle.',
        'Waiting 60.0 seconds for CUDA coredumps before exiting.',
        'kill_process_tree called: parent_pid=',
      ];
      expectInOrder(recorded.join('\n'), markers);
      expectInOrder(emulator.logs.join('\n'), markers);
    } finally {
      await emulator.close();
    }
  });

  test('5xx on the first N chat requests, then normal answers', async () => {
    const emulator = await launchReady(
      guideArgv(makeModelDir()),
      fastEnv({ faults: [{ kind: 'http-error', firstRequests: 2, status: 500 }] }),
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await chat(emulator.url, { messages: [{ role: 'user', content: 'warmup' }] })).status);
      expect(statuses).toEqual([500, 500, 200, 200]);
    } finally {
      await emulator.close();
    }
  });

  test('in-process crash ends the engine, not the test process; /health stops answering', async () => {
    const emulator = await launch(
      guideArgv(makeModelDir()),
      fastEnv({ faults: [{ kind: 'crash', at: 'loading', exitCode: 137 }] }),
    );
    const exit = await emulator.exited;
    expect(exit.exitCode).toBe(137);
    await expect(fetchWithTimeout(`${emulator.url}/health`, 300)).rejects.toThrow();
    await emulator.close();
  });

  test('control endpoint: absent unless enabled; behind the API key; injects faults at runtime', async () => {
    const off = await launchReady(guideArgv(makeModelDir(), ['--api-key', KEY]), fastEnv());
    try {
      expect((await fetch(`${off.url}/emulator/state`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(
        404,
      );
    } finally {
      await off.close();
    }
    const on = await launchReady(
      guideArgv(makeModelDir(), ['--api-key', KEY]),
      fastEnv({ control: { enabled: true } }),
    );
    try {
      expect((await fetch(`${on.url}/emulator/state`)).status).toBe(401);
      const injected = await fetch(`${on.url}/emulator/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ faults: [{ kind: 'http-error', firstRequests: 1, status: 503 }] }),
      });
      expect(injected.status).toBe(200);
      expect((await chat(on.url, { messages: [{ role: 'user', content: 'x' }] }, KEY)).status).toBe(503);
      const bad = await fetch(`${on.url}/emulator/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ faults: [{ kind: 'explode' }] }),
      });
      expect(bad.status).toBe(400);
      await fetch(`${on.url}/emulator/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ faults: [{ kind: 'crash', signal: 'SIGKILL' }] }),
      });
      expect((await on.exited).signal).toBe('SIGKILL');
    } finally {
      await on.close();
    }
  });

  test('control endpoint without --api-key is refused at start-up', async () => {
    await expect(launch(guideArgv(makeModelDir()), fastEnv({ control: { enabled: true } }))).rejects.toThrow(
      /control\.enabled.*--api-key/,
    );
  });
});

/** The rest of a response body as text, or `cut: …` when the connection died mid-body. */
async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return text;
    text += decoder.decode(chunk.value, { stream: true });
  }
}

function chatInit(): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
  };
}

async function fetchWithTimeout(url: string, timeoutMs: number, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

function emptyDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'glm-emu-dg-empty-'));
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
