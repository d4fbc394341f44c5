import { runWarmup } from '../../src/probes/warmup-requests';
import { WARMUP_REQUESTS } from '../../src/spec/warmup-requests';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';

test('the four guide requests: plain chat, thinking off, long context, tool call — each answered', async () => {
  expect(WARMUP_REQUESTS.map((r) => r.name)).toEqual(['plain-chat', 'thinking-off', 'long-context', 'tool-call']);
  expect(WARMUP_REQUESTS[1]!.body.chat_template_kwargs).toEqual({ enable_thinking: false });
  expect(WARMUP_REQUESTS[3]!.body.tools?.[0]?.function.name).toBe('get_weather');
  const logLines: string[] = [];
  const emulator = await startTestEmulator({ logLines });
  try {
    const startedMs = Date.now();
    const results = await runWarmup({
      baseUrl: emulator.url,
      apiKey: TEST_API_KEY,
      servedName: 'glm-5.1',
      timeoutMs: 10_000,
    });
    const wallMs = Date.now() - startedMs;
    expect(results.map((r) => [r.name, r.ok])).toEqual(WARMUP_REQUESTS.map((r) => [r.name, true]));
    // Each duration is that request's own time: positive, and inside the run's wall time (not a speed bound).
    for (const r of results) {
      expect(r.durationMs).toBeGreaterThan(0);
      expect(r.durationMs).toBeLessThanOrEqual(wallMs + 1);
    }
    // Real SGLang captures its CUDA graphs at start-up (recorded), so no warmup request logs a capture.
    expect(logLines.filter((l) => /Capture .*cuda graph begin/i.test(l) && l.includes('shape='))).toEqual([]);
  } finally {
    await emulator.close();
  }
});

test('warmup 5xx (emulator fault) → failed results naming status and message, others still run', async () => {
  const emulator = await startTestEmulator({
    config: { faults: [{ kind: 'http-error', firstRequests: 2, status: 500 }] },
  });
  try {
    const results = await runWarmup({
      baseUrl: emulator.url,
      apiKey: TEST_API_KEY,
      servedName: 'glm-5.1',
      timeoutMs: 10_000,
      concurrency: 1,
    });
    expect(results.map((r) => r.ok)).toEqual([false, false, true, true]);
    expect(results[0]).toMatchObject({ status: 500, failureKind: 'http' });
    expect(results[0]!.detail).toContain('HTTP 500');
    expect(JSON.stringify(results)).not.toContain(TEST_API_KEY);
  } finally {
    await emulator.close();
  }
});

test('a warmup timeout (hung scheduler) → failureKind timeout within warmup.timeout', async () => {
  const emulator = await startTestEmulator({
    config: { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] },
  });
  try {
    // The scheduler never answers, so without the 300 ms limit this call would outlive the test's timeout.
    const results = await runWarmup({
      baseUrl: emulator.url,
      apiKey: TEST_API_KEY,
      servedName: 'glm-5.1',
      timeoutMs: 300,
    });
    expect(results.map((r) => [r.name, r.ok, r.failureKind])).toEqual(
      WARMUP_REQUESTS.map((r) => [r.name, false, 'timeout']),
    );
    // Not given up early: a lower bound (timers fire no sooner than asked; 1 ms for clock rounding).
    for (const r of results) expect(r.durationMs).toBeGreaterThanOrEqual(299);
  } finally {
    await emulator.close();
  }
});

test('bad concurrency is refused before any request', async () => {
  await expect(
    runWarmup({ baseUrl: 'http://127.0.0.1:1', servedName: 'x', timeoutMs: 10, concurrency: 0 }),
  ).rejects.toThrow('concurrency 0 must be an integer >= 1');
});
