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

describe('simulateLoad: KV capacity', () => {
  test('a pool too small for every slot admits only what fits; the rest wait with slots free', () => {
    // 1,128 tokens a request (1000 prompt + 128 output): 65,536 hold 58, so 96 slots never fill.
    const { requests, figures } = simulateLoad(
      scenario({ maxRunningRequests: 96, concurrency: 96, numPrompts: 192, kvPoolTokens: 65_536 }),
    );
    expect(figures.peakRunning).toBe(58);
    expect(figures.kvLimitedRequests).toBeGreaterThan(0);
    expect(figures.peakTokenUsage).toBeLessThanOrEqual(1);
    expect(figures.peakTokenUsage).toBeGreaterThan(0.99);
    const waited = requests.filter((r) => r.waitedForKv);
    for (const r of waited) expect(r.timing.queueMs).toBeGreaterThan(0);
    // Every running request fits at every instant: never more than 58 admitted and not yet ended.
    for (const r of requests) {
      const alongside = requests.filter((o) => o.admittedMs <= r.admittedMs && o.endMs > r.admittedMs);
      expect(alongside.length).toBeLessThanOrEqual(58);
    }
  });

  test('the same load with room for every slot never waits for KV', () => {
    const { figures } = simulateLoad(
      scenario({ maxRunningRequests: 96, concurrency: 96, numPrompts: 192, kvPoolTokens: 754_000 }),
    );
    expect(figures.peakRunning).toBe(96);
    expect(figures.kvLimitedRequests).toBe(0);
  });

  test('KV-bound admission raises TTFT as longer requests take the pool (the guide’s 65536 with 4k prompts)', () => {
    const short = simulateLoad(scenario({ kvPoolTokens: 65_536 })).figures;
    const long = simulateLoad(scenario({ kvPoolTokens: 65_536, promptTokens: 4000, outputTokens: 512 })).figures;
    expect(short.kvLimitedRequests).toBe(0);
    expect(long.peakRunning).toBe(Math.floor(65_536 / 4512));
    expect(long.ttftP95Ms).toBeGreaterThan(short.ttftP95Ms * 10);
  });
});

describe('simulateLoad: containers and max_inputs', () => {
  test('three containers of 48 serve 144 users at one container’s TTFT, with three times its throughput', () => {
    const one = simulateLoad(scenario({})).figures;
    const three = simulateLoad(scenario({ containers: 3, maxInputs: 48, concurrency: 144, numPrompts: 600 })).figures;
    expect(three.peakRunning).toBe(144);
    expect(three.queuedRequests).toBe(0);
    expect(three.ttftP95Ms).toBeCloseTo(one.ttftP95Ms, 6);
    expect(three.aggregateDecodeTokPerS).toBeCloseTo(3 * one.aggregateDecodeTokPerS, 6);
  });

  test('requests go to the least busy container under max_inputs; past every container’s max they wait', () => {
    const { requests, figures } = simulateLoad(
      scenario({ containers: 2, maxInputs: 20, concurrency: 60, numPrompts: 60 }),
    );
    // Placed alternately while both have room: the first 40 split 20 / 20, the other 20 wait for a container.
    const first = requests.slice(0, 40);
    expect(first.filter((r) => r.container === 0)).toHaveLength(20);
    expect(first.filter((r) => r.container === 1)).toHaveLength(20);
    expect(requests.slice(0, 2).map((r) => r.container)).toEqual([0, 1]);
    for (const r of first) expect(r.timing.queueMs).toBe(0);
    for (const r of requests.slice(40)) expect(r.timing.queueMs).toBeGreaterThan(0);
    expect(figures.peakRunning).toBe(40);
  });

  test('max_inputs below the running cap leaves decode slots idle (the guide’s defaults: 20 against 48)', () => {
    const capped = simulateLoad(scenario({ maxInputs: 20 })).figures;
    expect(capped.peakRunning).toBe(20);
    expect(capped.ttftP95Ms).toBeGreaterThan(1_000);
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
