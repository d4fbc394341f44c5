import { measureStreamingChat } from '../../src/probes/stream-timing';
import {
  chat,
  fastEnv,
  guideArgv,
  launchReady,
  makeModelDir,
  metricValue,
  withFlag,
  withoutFlag,
} from './emulator-fixture';

// Real-time scale (1 = the guide's durations) with start-up phases zeroed, so TTFT/TPOT are the guide's values.
const realTiming = (extra: Record<string, unknown> = {}) =>
  fastEnv(
    { phases: { weightLoadMs: 0, graphCaptureMs: 0 }, reportTiming: true, ...extra },
    { GLM_OPS_EMULATOR_TIME_SCALE: '1' },
  );
const body = (content: string, maxTokens = 40) => ({
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
  ignore_eos: true,
  chat_template_kwargs: { enable_thinking: false },
});

describe('timing model (guide §10 baselines)', () => {
  test('EAGLE: TTFT ≈ 246 ms and TPOT ≈ 7.7 ms at low load', async () => {
    const emulator = await launchReady(guideArgv(makeModelDir()), realTiming());
    try {
      await measureStreamingChat({ baseUrl: emulator.url, body: body('warm the client and server up', 2) });
      const result = await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi') });
      expect(result.isOk).toBe(true);
      expect(result.outputTokens).toBe(40);
      expect(result.ttftMs).toBeGreaterThan(238);
      expect(result.ttftMs).toBeLessThan(275);
      expect(result.tpotMs).toBeGreaterThan(7.2);
      expect(result.tpotMs).toBeLessThan(9);
      // Speculative decoding delivers several tokens per chunk.
      expect(result.itlMs.length).toBeLessThan(20);
    } finally {
      await emulator.close();
    }
  });

  test('without EAGLE: TPOT ≈ 20 ms, one token per chunk', async () => {
    const argv = withoutFlag(guideArgv(makeModelDir()), '--speculative-algorithm');
    const emulator = await launchReady(argv, realTiming());
    try {
      const result = await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi', 15) });
      expect(result.tpotMs).toBeGreaterThan(19);
      expect(result.tpotMs).toBeLessThan(22.5);
      expect(result.itlMs.length).toBe(14);
      const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(metrics, 'sglang:spec_accept_length')).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  test('prefill time grows with prompt length', async () => {
    const emulator = await launchReady(guideArgv(makeModelDir()), realTiming({ timing: { prefillMsPerToken: 0.05 } }));
    try {
      const short = await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi', 2) });
      const long = await measureStreamingChat({ baseUrl: emulator.url, body: body('word '.repeat(16_000), 2) });
      // ~20k prompt tokens × 0.05 ms ≈ +1 s.
      expect(long.ttftMs - short.ttftMs).toBeGreaterThan(800);
    } finally {
      await emulator.close();
    }
  });

  test('the first request of each shape pays CUDA-graph capture; the second does not (why warmup exists)', async () => {
    const emulator = await launchReady(
      guideArgv(makeModelDir()),
      fastEnv({ phases: { weightLoadMs: 0, graphCaptureMs: 40_000 } }, { GLM_OPS_EMULATOR_TIME_SCALE: '0.01' }),
    );
    try {
      const first = await measureStreamingChat({ baseUrl: emulator.url, body: body('shape one', 2) });
      const second = await measureStreamingChat({ baseUrl: emulator.url, body: body('shape one again', 2) });
      expect(first.ttftMs).toBeGreaterThan(390);
      expect(second.ttftMs).toBeLessThan(100);
      expect(emulator.logs.join('\n')).toContain('Capture cuda graph begin');
    } finally {
      await emulator.close();
    }
  });

  test('at most --max-running-requests decode at once; the rest queue and TTFT inflates', async () => {
    const argv = withFlag(guideArgv(makeModelDir()), '--max-running-requests', '2');
    const emulator = await launchReady(argv, realTiming());
    try {
      await measureStreamingChat({ baseUrl: emulator.url, body: body('warm the client and server up', 2) });
      const requests = Array.from({ length: 4 }, (_, i) =>
        measureStreamingChat({ baseUrl: emulator.url, body: body(`q${i}`, 30) }),
      );
      await new Promise((r) => setTimeout(r, 100));
      const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(metrics, 'sglang:num_running_reqs')).toBe(2);
      expect(metricValue(metrics, 'sglang:num_queue_reqs')).toBe(2);
      const results = await Promise.all(requests);
      const ttfts = results.map((r) => r.ttftMs).sort((a, b) => a - b);
      // The queued pair waits for a whole first request (~246 + 29 × 7.7 ms) before its own prefill.
      expect(ttfts[2]! - ttfts[1]!).toBeGreaterThan(350);
      for (const r of results) {
        const reported = r.finalChunkExtras.emulator_timing as { ttft_ms: number; queue_ms: number };
        expect(Math.abs(r.ttftMs - reported.ttft_ms)).toBeLessThan(25);
      }
      const after = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(after, 'sglang:num_running_reqs')).toBe(0);
      expect(metricValue(after, 'sglang:num_queue_reqs')).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  test('/health under load answers without queueing behind decodes', async () => {
    const argv = withFlag(guideArgv(makeModelDir()), '--max-running-requests', '1');
    const emulator = await launchReady(
      argv,
      realTiming({ phases: { weightLoadMs: 0, graphCaptureMs: 0, healthGenerateMs: 50 } }),
    );
    try {
      const busy = [chat(emulator.url, body('a', 100)), chat(emulator.url, body('b', 100))];
      const started = Date.now();
      expect((await fetch(`${emulator.url}/health`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(400);
      await Promise.all(busy);
    } finally {
      await emulator.close();
    }
  });
});
