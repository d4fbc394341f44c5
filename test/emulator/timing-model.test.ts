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
} from '../helpers/emulator-fixture';
import { waitFor } from '../helpers/wait-for';

// Structural checks of the timing model: what the emulator PLANS for each request (`reportTiming`), how it
// batches tokens and queues requests. No wall-clock assertion: measured TTFT/TPOT against the plan are the
// benchmark's job (`npm run bench -- emulator-timing`), which runs at time scale 1 on a quiet machine.
const planned = (extra: Record<string, unknown> = {}) =>
  fastEnv(
    { phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0 }, reportTiming: true, ...extra },
    { GLM_OPS_EMULATOR_TIME_SCALE: '1' },
  );
const body = (content: string, maxTokens = 40) => ({
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
  ignore_eos: true,
  chat_template_kwargs: { enable_thinking: false },
});
type Timing = { ttft_ms: number; tpot_ms: number; queue_ms: number };
const timingOf = (result: { finalChunkExtras: Record<string, unknown> }): Timing =>
  result.finalChunkExtras.emulator_timing as Timing;

describe('timing model (guide §10 baselines), as planned per request', () => {
  test('EAGLE: planned TTFT = 240 ms + 0.006 ms × prompt tokens, TPOT 7.7 ms; several tokens per chunk', async () => {
    const emulator = await launchReady(guideArgv(makeModelDir()), planned());
    try {
      const result = await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi') });
      expect(result.isOk).toBe(true);
      expect(result.outputTokens).toBe(40);
      const timing = timingOf(result);
      const prefillMs = timing.ttft_ms - timing.queue_ms;
      expect(prefillMs).toBeGreaterThanOrEqual(240);
      expect(prefillMs).toBeLessThan(241);
      expect(timing.tpot_ms).toBeCloseTo(7.7, 5);
      // Speculative decoding delivers several tokens per chunk (accept length ~3.5).
      expect(result.itlMs.length).toBeLessThan(20);
    } finally {
      await emulator.close();
    }
  });

  test('the first write carrying output is stamped: the first token without thinking, a step later after <think>', async () => {
    const emulator = await launchReady(guideArgv(makeModelDir()), planned());
    type FirstWrites = { first_write_epoch_ms: number; first_output_epoch_ms: number; tpot_ms: number };
    try {
      const firstWrites = (r: { finalChunkExtras: Record<string, unknown> }) =>
        r.finalChunkExtras.emulator_timing as FirstWrites;
      const direct = firstWrites(await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi') }));
      // The same step's write: the output stamp is taken inside it, the first-write stamp right after it.
      expect(direct.first_output_epoch_ms).toBeLessThanOrEqual(direct.first_write_epoch_ms);
      const thinking = { ...body('Hi'), chat_template_kwargs: { enable_thinking: true } };
      const result = await measureStreamingChat({ baseUrl: emulator.url, body: thinking });
      const afterTag = firstWrites(result);
      // The prefill token is the <think> tag the reasoning parser swallows: output starts with the next verify
      // step, which the plan puts at least one TPOT after the first token.
      expect(afterTag.first_output_epoch_ms - afterTag.first_write_epoch_ms).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  test('without EAGLE: planned TPOT 20 ms, one token per chunk, spec_accept_length 0', async () => {
    const argv = withoutFlag(guideArgv(makeModelDir()), '--speculative-algorithm');
    const emulator = await launchReady(argv, planned());
    try {
      const result = await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi', 15) });
      expect(timingOf(result).tpot_ms).toBeCloseTo(20, 5);
      expect(result.itlMs.length).toBe(14);
      const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(metrics, 'sglang:spec_accept_length')).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  test('timing.timeScale sets request timing apart from the start-up clock', async () => {
    // Start-up at a thousandth (fastEnv), requests at half the guide's durations.
    const emulator = await launchReady(
      guideArgv(makeModelDir()),
      fastEnv({ phases: { graphCaptureMs: 0 }, reportTiming: true, timing: { timeScale: 0.5 } }),
    );
    try {
      const timing = timingOf(await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi', 4) })) as Timing & {
        prefill_ms: number;
        time_scale: number;
      };
      expect(timing.time_scale).toBe(0.5);
      expect(timing.prefill_ms).toBeGreaterThanOrEqual(120);
      expect(timing.prefill_ms).toBeLessThan(120.5);
      expect(timing.tpot_ms).toBeCloseTo(3.85, 6);
    } finally {
      await emulator.close();
    }
  });

  test('planned prefill grows with prompt length', async () => {
    const emulator = await launchReady(guideArgv(makeModelDir()), planned({ timing: { prefillMsPerToken: 0.05 } }));
    try {
      const short = timingOf(await measureStreamingChat({ baseUrl: emulator.url, body: body('Hi', 2) }));
      const long = timingOf(
        await measureStreamingChat({ baseUrl: emulator.url, body: body('word '.repeat(16_000), 2) }),
      );
      // ~16k+ more prompt tokens × 0.05 ms ≈ +800 ms of planned prefill.
      expect(long.ttft_ms - long.queue_ms - (short.ttft_ms - short.queue_ms)).toBeGreaterThan(800);
    } finally {
      await emulator.close();
    }
  });

  test('CUDA graphs are captured at start-up, so no request pays a capture: the first plan equals the second', async () => {
    const emulator = await launchReady(
      guideArgv(makeModelDir()),
      planned({ phases: { weightLoadMs: 0, graphCaptureMs: 400, serverWarmupMs: 0 } }),
    );
    try {
      const captureEnd = emulator.logs.findIndex((l) => /Capture target prefill CUDA graph end/.test(l));
      const uvicorn = emulator.logs.findIndex((l) => l.includes('Uvicorn running on'));
      expect(captureEnd).toBeGreaterThan(-1);
      expect(captureEnd).toBeLessThan(uvicorn);
      const first = timingOf(await measureStreamingChat({ baseUrl: emulator.url, body: body('shape one', 2) }));
      const second = timingOf(await measureStreamingChat({ baseUrl: emulator.url, body: body('shape one', 2) }));
      expect(first.ttft_ms - first.queue_ms).toBeCloseTo(second.ttft_ms - second.queue_ms, 5);
      expect(emulator.logs.slice(uvicorn).some((l) => /Capture .*CUDA graph/i.test(l))).toBe(false);
    } finally {
      await emulator.close();
    }
  });

  test('at most --max-running-requests decode at once; the rest queue and their planned TTFT includes the wait', async () => {
    const argv = withFlag(guideArgv(makeModelDir()), '--max-running-requests', '2');
    const emulator = await launchReady(argv, planned());
    try {
      const requests = Array.from({ length: 4 }, (_, i) =>
        measureStreamingChat({ baseUrl: emulator.url, body: body(`q${i}`, 120) }),
      );
      await waitFor(
        async () => {
          const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
          return metricValue(metrics, 'sglang:num_queue_reqs') === 2;
        },
        { what: 'two requests queued' },
      );
      const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(metrics, 'sglang:num_running_reqs')).toBe(2);
      const results = await Promise.all(requests);
      const queued = results.map(timingOf).filter((t) => t.queue_ms > 0);
      // Two waited for a slot; their queue time is part of their planned TTFT.
      expect(queued.length).toBeGreaterThanOrEqual(2);
      for (const t of queued) expect(t.ttft_ms).toBeGreaterThan(t.queue_ms);
      const after = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(after, 'sglang:num_running_reqs')).toBe(0);
      expect(metricValue(after, 'sglang:num_queue_reqs')).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  test('/health answers while every slot decodes: it does not queue behind the requests', async () => {
    const argv = withFlag(guideArgv(makeModelDir()), '--max-running-requests', '1');
    const emulator = await launchReady(
      argv,
      planned({ phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0, healthGenerateMs: 50 } }),
    );
    try {
      const order: string[] = [];
      const busy = [chat(emulator.url, body('a', 200)), chat(emulator.url, body('b', 200))].map((p, i) =>
        p.then(() => order.push(`chat${i}`)),
      );
      await waitFor(
        async () => {
          const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
          return metricValue(metrics, 'sglang:num_queue_reqs') === 1;
        },
        { what: 'one request queued' },
      );
      const health = fetch(`${emulator.url}/health`).then((r) => {
        order.push('health');
        return r.status;
      });
      expect(await health).toBe(200);
      await Promise.all(busy);
      expect(order[0]).toBe('health');
    } finally {
      await emulator.close();
    }
  });
});

type LoadTiming = Timing & {
  slot_wait_ms: number;
  prefill_ms: number;
  verify_wait_ms: number;
  running: number;
  output_tokens: number;
  decode_steps: number;
  time_scale: number;
  arrival_epoch_ms: number;
  admitted_epoch_ms: number;
  finished_epoch_ms: number;
};

describe('timing model under load, over HTTP at a scaled clock (order and the emulator’s own figures)', () => {
  test('past --max-running-requests requests queue FIFO; past the verify cap they wait behind the verify backlog', async () => {
    const scale = 0.2;
    // Two slots; a verify pass of one request, so the second request decoding waits behind the first's verify.
    const argv = withFlag(guideArgv(makeModelDir()), '--max-running-requests', '2');
    const emulator = await launchReady(
      argv,
      fastEnv(
        {
          phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0 },
          reportTiming: true,
          timing: { verifyBatchCap: 1 },
        },
        { GLM_OPS_EMULATOR_TIME_SCALE: String(scale) },
      ),
    );
    try {
      // Long enough (≈ 1.5 s each at this scale) that the later requests arrive while two decode.
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => measureStreamingChat({ baseUrl: emulator.url, body: body(`u${i}`, 1000) })),
      );
      expect(results.every((r) => r.isOk)).toBe(true);
      const plans = results.map((r) => r.finalChunkExtras.emulator_timing as LoadTiming);
      const byArrival = [...plans].sort((a, b) => a.arrival_epoch_ms - b.arrival_epoch_ms);
      for (const t of plans) {
        expect(t.time_scale).toBe(scale);
        expect(t.output_tokens).toBe(1000);
        expect(t.ttft_ms).toBeCloseTo(t.queue_ms + t.prefill_ms + t.verify_wait_ms, 6);
        // Epoch stamps are large floats: equal to a microsecond.
        expect(t.admitted_epoch_ms - t.arrival_epoch_ms).toBeCloseTo(t.queue_ms, 2);
        expect(t.running).toBeGreaterThanOrEqual(1);
        expect(t.running).toBeLessThanOrEqual(2);
        // The verify backlog: (running - cap) × 47 ms, on the scaled clock.
        expect(t.verify_wait_ms).toBeCloseTo(Math.max(0, t.running - 1) * 47 * scale, 6);
      }
      // Never more than two decoding at once (the emulator's own admission and finish stamps).
      for (const t of plans) {
        const overlapping = plans.filter(
          (o) => o.admitted_epoch_ms <= t.admitted_epoch_ms && o.finished_epoch_ms > t.admitted_epoch_ms,
        );
        expect(overlapping.length).toBeLessThanOrEqual(2);
      }
      // The first two took the slots without waiting for a finish; the other two queued and got theirs, in arrival
      // order, only when a slot freed up (at or after an earlier request's last token); their TTFT includes the wait.
      const firstDone = Math.min(...plans.map((t) => t.finished_epoch_ms));
      for (const t of byArrival.slice(0, 2)) {
        expect(t.admitted_epoch_ms).toBeLessThan(firstDone);
        expect(t.slot_wait_ms).toBe(0);
      }
      const queued = byArrival.slice(2);
      for (const t of queued) {
        expect(t.admitted_epoch_ms).toBeGreaterThanOrEqual(firstDone - 0.001);
        expect(t.slot_wait_ms).toBeGreaterThan(0);
        expect(t.ttft_ms).toBeGreaterThan(t.queue_ms);
      }
      expect(queued[0]!.admitted_epoch_ms).toBeLessThanOrEqual(queued[1]!.admitted_epoch_ms);
      // The client saw the queued requests' first tokens after the first request had finished.
      for (const t of queued) expect(results[plans.indexOf(t)]!.firstOutputAtEpochMs!).toBeGreaterThan(firstDone);
      // /server_info and /metrics report the accept length the plan delivered (verify steps of 3-4 tokens).
      const info = (await (await fetch(`${emulator.url}/server_info`)).json()) as {
        internal_states: Array<{ avg_spec_accept_length?: number }>;
      };
      const reported = info.internal_states[0]?.avg_spec_accept_length as number;
      const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(metrics, 'sglang:spec_accept_length')).toBeCloseTo(reported, 9);
      const delivered =
        plans.reduce((sum, t) => sum + t.output_tokens - 1, 0) / plans.reduce((sum, t) => sum + t.decode_steps, 0);
      expect(reported).toBeCloseTo(delivered, 1);
      expect(reported).toBeGreaterThan(3.3);
      expect(reported).toBeLessThan(3.6);
    } finally {
      await emulator.close();
    }
  });
});
