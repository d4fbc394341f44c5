import { TimingModel } from '../../src/emulator/emulator-config';
import { percentile, simulateLoad, type LoadScenario } from '../../src/emulator/load-simulation';

// The emulator's timing model under a closed-loop load (bench_serving --max-concurrency), without a server: the
// figures the performance gate will read, as numbers from the model.
const guide = TimingModel.parse({});
const scenario = (over: Partial<LoadScenario>): LoadScenario => ({
  constants: guide,
  maxRunningRequests: 48,
  isSpeculative: true,
  concurrency: 48,
  numPrompts: 200,
  promptTokens: 1000,
  outputTokens: 128,
  ...over,
});

describe('simulateLoad', () => {
  test('the guide’s spec (max-running-requests 48) under 48 users passes a 300 ms TTFT p95', () => {
    const { figures } = simulateLoad(scenario({}));
    expect(figures.completed).toBe(200);
    expect(figures.queuedRequests).toBe(0);
    expect(figures.peakRunning).toBe(48);
    expect(figures.ttftP95Ms).toBeCloseTo(246, 6);
    expect(figures.ttftP95Ms).toBeLessThan(300);
    // §10: ~4,600 tok/s aggregate with all 48 slots active, TPOT ~10 ms, per user well inside "higher at low load".
    expect(figures.aggregateDecodeTokPerS).toBeGreaterThan(4_500);
    expect(figures.aggregateDecodeTokPerS).toBeLessThan(4_700);
  });

  test('max-running-requests 96 under 96 users misses it by seconds (§18: TTFT spikes to 2-3 s)', () => {
    const { figures } = simulateLoad(scenario({ maxRunningRequests: 96, concurrency: 96, numPrompts: 400 }));
    expect(figures.queuedRequests).toBe(0);
    expect(figures.peakRunning).toBe(96);
    expect(figures.ttftP95Ms).toBeGreaterThan(2_000);
    expect(figures.ttftP95Ms).toBeLessThan(3_000);
    // TPOT inflates too: decode per user falls into the guide's 30-75 tok/s band.
    expect(figures.tpotP50Ms).toBeGreaterThan(15);
    expect(figures.perUserTokPerS).toBeGreaterThan(30);
    expect(figures.perUserTokPerS).toBeLessThan(75);
  });

  test('the same 96 running without EAGLE keeps TTFT: the backlog is the verify pass’s', () => {
    const { figures } = simulateLoad(
      scenario({ maxRunningRequests: 96, concurrency: 96, numPrompts: 400, isSpeculative: false }),
    );
    expect(figures.ttftP95Ms).toBeCloseTo(246, 6);
    expect(figures.tpotP50Ms).toBeCloseTo(20 * (1 + 0.0075 * 95), 6);
  });

  test('users beyond max-running-requests queue FIFO and their TTFT includes the wait', () => {
    const { requests, figures } = simulateLoad(scenario({ concurrency: 96, numPrompts: 96 }));
    expect(figures.peakRunning).toBe(48);
    const first = requests.slice(0, 48);
    const queued = requests.slice(48);
    for (const r of first) expect(r.timing.queueMs).toBe(0);
    for (const r of queued) {
      expect(r.timing.queueMs).toBeGreaterThan(0);
      expect(r.timing.ttftMs).toBeCloseTo(r.timing.queueMs + r.timing.prefillMs, 9);
      // Never past the cap, so never behind the verify backlog.
      expect(r.timing.verifyWaitMs).toBe(0);
    }
    // FIFO: admitted in arrival order, each one when a slot frees up.
    const admitted = queued.map((r) => r.admittedMs);
    expect(admitted).toEqual([...admitted].sort((a, b) => a - b));
    const ends = new Set(first.map((r) => r.endMs));
    for (const r of queued) expect(ends.has(r.admittedMs)).toBe(true);
    expect(figures.ttftP95Ms).toBeGreaterThan(1_000);
  });

  test('TTFT grows with each request admitted past the verify cap, not before', () => {
    const { requests } = simulateLoad(scenario({ maxRunningRequests: 96, concurrency: 96, numPrompts: 96 }));
    const waits = requests.map((r) => r.timing.verifyWaitMs);
    expect(waits.slice(0, 48).every((w) => w === 0)).toBe(true);
    waits.slice(48).forEach((w, i) => expect(w).toBeCloseTo(47 * (i + 1), 9));
  });

  test('decode per request slows as the batch grows (1 → 16 → 48 users)', () => {
    const tpots = [1, 16, 48].map((n) => simulateLoad(scenario({ concurrency: n })).figures.tpotP50Ms);
    expect(tpots[0]).toBeCloseTo(7.7, 9);
    expect(tpots[1]).toBeGreaterThan(tpots[0] as number);
    expect(tpots[2]).toBeGreaterThan(tpots[1] as number);
  });

  test('every request ends (latency - TTFT) / (n - 1) = TPOT after it arrived', () => {
    const { requests } = simulateLoad(scenario({ concurrency: 60, numPrompts: 120 }));
    for (const r of requests) expect((r.endMs - r.arrivalMs - r.timing.ttftMs) / 127).toBeCloseTo(r.timing.tpotMs, 9);
  });
});

describe('percentile (numpy linear)', () => {
  test.each([
    [[1, 2, 3, 4], 50, 2.5],
    [[1, 2, 3, 4], 95, 3.85],
    [[5], 99, 5],
    [[10, 0], 0, 0],
  ])('%j p%d = %d', (values, p, expected) => expect(percentile(values, p)).toBeCloseTo(expected, 9));

  test('no values: NaN', () => expect(percentile([], 50)).toBeNaN());
});
