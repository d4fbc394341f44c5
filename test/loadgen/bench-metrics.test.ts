import { calculateMetrics, peakFigures, ratesBetween, seriesStats, type RequestRecord } from '../../src/loadgen';
import type { BenchServingSummary } from '../../src/shared/bench-summary';
import { tokensPerLaterChunk } from '../../src/loadgen/stream-chat';
import { randomLength, randomPrompts } from '../../src/loadgen/random-prompts';
import { SeededRandom } from '../../src/random/seeded-random';

const ok = (r: Partial<RequestRecord>): RequestRecord => ({
  success: true,
  startTime: 0,
  ttft: 0,
  latency: 0,
  itl: [],
  chunkTokens: [],
  outputTokens: 0,
  promptTokens: 0,
  ...r,
});

describe('bench_serving metric math, by hand', () => {
  // Three successes (one with a single output token, so no TPOT) and one failure, over 2.5 s.
  const records = [
    ok({
      ttft: 0.2,
      latency: 1.2,
      itl: new Array(10).fill(0.1),
      chunkTokens: new Array(10).fill(1),
      outputTokens: 11,
      promptTokens: 100,
    }),
    ok({ startTime: 0.05, ttft: 0.3, latency: 0.3, outputTokens: 1, promptTokens: 50 }),
    { ...ok({ startTime: 0.07, latency: 0.01, promptTokens: 60 }), success: false, error: 'HTTP 503' },
    ok({
      startTime: 0.1,
      ttft: 0.25,
      latency: 2.25,
      itl: [0.5, 0.5, 1],
      chunkTokens: [1, 1, 1],
      outputTokens: 5,
      promptTokens: 80,
    }),
  ];
  const m = calculateMetrics(records, 2.5);

  test('counts, totals and throughputs leave the failure out', () => {
    expect([m.completed, m.failed, m.total_input_tokens, m.total_output_tokens]).toEqual([3, 1, 230, 17]);
    expect(m.request_throughput).toBeCloseTo(3 / 2.5, 12);
    expect(m.input_throughput).toBeCloseTo(230 / 2.5, 12);
    expect(m.output_throughput).toBeCloseTo(17 / 2.5, 12);
    expect(m.total_throughput).toBeCloseTo(247 / 2.5, 12);
  });

  test('TTFT, TPOT = (latency − TTFT)/(tokens − 1) for tokens > 1, E2E, concurrency = ΣE2E/duration', () => {
    expect(m.mean_ttft_ms).toBeCloseTo(250, 9);
    expect(m.p90_ttft_ms).toBeCloseTo(290, 9); // sorted 200, 250, 300: rank 1.8 → 250 + 0.8 × 50
    // (1.2 − 0.2)/10 = 100 ms and (2.25 − 0.25)/4 = 500 ms; the one-token reply has none.
    expect([m.mean_tpot_ms, m.median_tpot_ms, m.std_tpot_ms]).toEqual([300, 300, 200].map((v) => expect.closeTo(v, 9)));
    expect(m.mean_e2e_latency_ms).toBeCloseTo(1250, 9);
    expect(m.median_e2e_latency_ms).toBeCloseTo(1200, 9);
    expect(m.concurrency).toBeCloseTo(3.75 / 2.5, 12);
  });

  test('ITL: every gap; percentiles interpolate between ranks as numpy does', () => {
    // Ten gaps of 100 ms, then 500, 500, 1000: 13 values.
    expect(m.mean_itl_ms).toBeCloseTo(3000 / 13, 9);
    expect(m.median_itl_ms).toBeCloseTo(100, 9);
    expect(m.p90_itl_ms).toBeCloseTo(500, 9); // rank 10.8 between 500 and 500
    expect(m.p99_itl_ms).toBeCloseTo(940, 9); // rank 11.88: 500 + 0.88 × 500
    expect(m.max_itl_ms).toBeCloseTo(1000, 9);
  });

  test('a chunk of several tokens spreads its gap over them', () => {
    const spread = calculateMetrics(
      [ok({ ttft: 0.1, latency: 0.16, itl: [0.03, 0.03], chunkTokens: [3, 1], outputTokens: 5 })],
      1,
    );
    // 30 ms over 3 tokens = three 10 ms gaps, then one 30 ms gap.
    expect(spread.median_itl_ms).toBeCloseTo(10, 9);
    expect(spread.max_itl_ms).toBeCloseTo(30, 9);
    expect(spread.mean_itl_ms).toBeCloseTo(60 / 4, 9);
  });

  test('no successful request: every figure is 0 (bench_serving passes `samples or 0` to numpy)', () => {
    const none = calculateMetrics([{ ...ok({}), success: false }], 1);
    expect([none.completed, none.failed, none.mean_ttft_ms, none.p99_tpot_ms, none.concurrency]).toEqual([
      0, 1, 0, 0, 0,
    ]);
    expect(seriesStats([])).toEqual({ mean: 0, median: 0, std: 0, p90: 0, p95: 0, p99: 0, max: 0 });
  });

  test('peaks: tokens per wall-clock second and requests open in one', () => {
    const peaks = peakFigures([
      ok({ startTime: 10, ttft: 0.5, latency: 1.6, itl: [0.2, 0.2, 0.6] }),
      ok({ startTime: 10.2, ttft: 0.3, latency: 0.5, itl: [0.1] }),
    ]);
    // Second 0 holds tokens at 10.5, 10.7, 10.9 and 10.5, 10.6; second 1 the one at 11.5.
    expect(peaks).toEqual({ max_output_tokens_per_s: 5, max_concurrent_requests: 2 });
  });
});

describe('tokens a chunk carried, from the usage count', () => {
  test('one a chunk when the server sent no more tokens than chunks', () => {
    expect(tokensPerLaterChunk([5, 5, 5], 3)).toEqual([1, 1]);
    expect(tokensPerLaterChunk([5], 1)).toEqual([]);
  });

  test('shared by text length, summing to the tokens after the first chunk', () => {
    // 12 tokens over 40 characters: the first chunk (10 chars) has 3, then 6, 3.
    expect(tokensPerLaterChunk([10, 20, 10], 12)).toEqual([6, 3]);
    const tokens = tokensPerLaterChunk([4, 9, 3, 7, 1], 17);
    expect(tokens.every((n) => n >= 1)).toBe(true);
    expect(tokens.reduce((a, b) => a + b, 0)).toBe(17 - Math.round((17 * 4) / 24));
  });
});

describe('random dataset', () => {
  test("lengths are bench_serving's: uniform in [max(⌊full × ratio⌋, 1), full]", () => {
    const random = new SeededRandom(7);
    const draws = Array.from({ length: 2000 }, () => randomLength(100, 0.5, random));
    expect(Math.min(...draws)).toBe(50);
    expect(Math.max(...draws)).toBe(100);
    expect(new Set(Array.from({ length: 50 }, () => randomLength(100, 1, random)))).toEqual(new Set([100]));
  });

  test('prompts are four characters a token, distinct, and the same for the same seed', () => {
    const a = randomPrompts(20, { inputLen: 256, outputLen: 64, rangeRatio: 1 }, new SeededRandom(42));
    const b = randomPrompts(20, { inputLen: 256, outputLen: 64, rangeRatio: 1 }, new SeededRandom(42));
    expect(a).toEqual(b);
    expect(a.map((p) => p.messages[0]!.content.length)).toEqual(new Array(20).fill(1024));
    expect(new Set(a.map((p) => p.messages[0]!.content)).size).toBe(20);
    expect(a.every((p) => p.outputLen === 64 && p.promptTokens === 256)).toBe(true);
  });

  test('Poisson gaps: the seeded exponential has the asked mean', () => {
    const random = new SeededRandom(3);
    const gaps = Array.from({ length: 20_000 }, () => random.exponential(0.25));
    const mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
    expect(Math.abs(mean - 0.25)).toBeLessThan(0.01);
  });
});

describe('sweep rates', () => {
  const at = (request_throughput: number) => ({ request_throughput }) as BenchServingSummary;
  test('evenly between the synchronous and the saturating throughput, ends excluded', () => {
    expect(ratesBetween(at(1), at(5), 3)).toEqual([2, 3, 4]);
  });
  test('none when the server did not saturate past one request at a time', () => {
    expect(ratesBetween(at(2), at(2), 4)).toEqual([]);
    expect(ratesBetween(at(0), at(3), 4)).toEqual([]);
  });
});
