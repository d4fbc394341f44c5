import { predictCandidate, type CandidateInputs } from '../../src/emulator/candidate-prediction';

// The twin's prediction of a whole candidate (the tune search's trial oracle), from the guide's production flags.
const guideArgs = {
  tp: 8,
  'speculative-algorithm': 'EAGLE',
  'speculative-num-steps': 3,
  'speculative-eagle-topk': 1,
  'speculative-num-draft-tokens': 4,
  'mem-fraction-static': 0.88,
  'max-running-requests': 48,
  'max-total-tokens': 65536,
};
const candidate = (over: Partial<CandidateInputs> = {}, args: Record<string, string | number | boolean> = {}) =>
  predictCandidate({
    gpuType: 'B200',
    gpuCount: 8,
    weightsGB: 700,
    maxContainers: 1,
    maxInputs: 48,
    workload: { concurrency: 48, requests: 200, inputLen: 1000, outputLen: 128 },
    ...over,
    args: { ...guideArgs, ...args },
  });
const measured = (prediction: ReturnType<typeof predictCandidate>) => {
  if (prediction.outcome !== 'measured') throw new Error(`expected figures, got ${prediction.reason}`);
  return prediction;
};

describe('predictCandidate', () => {
  test('the guide’s B200 flags at 48 users: TTFT ~246 ms, ~4,600 tok/s with every slot busy, accept 3.5', () => {
    const p = measured(candidate());
    expect(p.figures.ttftP95Ms).toBeCloseTo(246, 6);
    expect(p.load.aggregateDecodeTokPerS).toBeGreaterThan(4_500);
    expect(p.load.aggregateDecodeTokPerS).toBeLessThan(4_700);
    expect(p.figures.acceptLength).toBeCloseTo(3.5, 9);
    expect(p.figures).toMatchObject({ completed: 200, failed: 0, errorRate: 0 });
    // The guide's --max-total-tokens 65536 caps the pool memory would give (~755k tokens).
    expect(p.engine.poolTokens).toBe(65_536);
    expect(p.engine.profiledPoolTokens).toBeGreaterThan(700_000);
  });

  test('without EAGLE: ~1,750 tok/s with every slot busy, no accept length', () => {
    const p = measured(candidate({}, { 'speculative-algorithm': false }));
    expect(p.load.aggregateDecodeTokPerS).toBeGreaterThan(1_700);
    expect(p.load.aggregateDecodeTokPerS).toBeLessThan(1_800);
    expect(p.figures.acceptLength).toBeNull();
  });

  test('96 running past the verify cap: TTFT 2–3 s (§18)', () => {
    const workload = { concurrency: 96, requests: 400, inputLen: 1000, outputLen: 128 };
    const p = measured(
      candidate({ workload, maxInputs: 96 }, { 'max-running-requests': 96, 'max-total-tokens': false }),
    );
    expect(p.figures.ttftP95Ms).toBeGreaterThan(2_000);
    expect(p.figures.ttftP95Ms).toBeLessThan(3_000);
  });

  test('a mem fraction above the GPU’s limit OOMs while loading: B200 above 0.90, H200 above 0.85', () => {
    expect(candidate({}, { 'mem-fraction-static': 0.92 })).toMatchObject({ outcome: 'oom' });
    expect(measured(candidate({}, { 'mem-fraction-static': 0.9 })).engine.poolTokens).toBe(65_536);
    expect(candidate({ gpuType: 'H200' }, { 'mem-fraction-static': 0.88 })).toMatchObject({
      outcome: 'oom',
      reason: expect.stringContaining('H200'),
    });
    expect(candidate({ gpuType: 'H200' }, { 'mem-fraction-static': 0.83 }).outcome).toBe('measured');
  });

  test('weights that leave no room for a pool: SGLang’s “Not enough memory”', () => {
    expect(candidate({ gpuCount: 4 }, { tp: 4 })).toEqual({
      outcome: 'oom',
      reason:
        'Not enough memory. Please try to increase --mem-fraction-static. Current value: mem_fraction_static=0.88',
    });
  });

  test('on H200 the pool memory gives is a third of B200’s; the same speed (the guide gives no H200 figures)', () => {
    const uncapped = { 'max-total-tokens': false, 'mem-fraction-static': 0.83 };
    const h200 = measured(candidate({ gpuType: 'H200' }, uncapped));
    const b200 = measured(candidate({}, uncapped));
    expect(h200.engine.poolTokens).toBeLessThan(b200.engine.poolTokens / 2.5);
    expect(h200.figures.tpotP50Ms).toBe(b200.figures.tpotP50Ms);
  });

  test('KV is a lever: long prompts under the guide’s 65536-token pool queue; a larger pool lets them run', () => {
    const workload = { concurrency: 48, requests: 200, inputLen: 4000, outputLen: 512 };
    const small = measured(candidate({ workload }));
    const large = measured(candidate({ workload }, { 'max-total-tokens': 400_000 }));
    expect(small.load.kvLimitedRequests).toBeGreaterThan(0);
    expect(small.load.peakRunning).toBeLessThan(48);
    expect(large.load.peakRunning).toBe(48);
    expect(large.figures.ttftP95Ms).toBeLessThan(small.figures.ttftP95Ms / 10);
    expect(large.figures.outputTokensPerSec).toBeGreaterThan(small.figures.outputTokensPerSec * 2);
  });

  test('containers scale out: 3 × 48 slots serve 144 users at one container’s TTFT', () => {
    const workload = { concurrency: 144, requests: 600, inputLen: 1000, outputLen: 128 };
    const one = measured(candidate({ workload }));
    const three = measured(candidate({ workload, maxContainers: 3 }));
    expect(one.figures.ttftP95Ms).toBeGreaterThan(1_000);
    expect(three.figures.ttftP95Ms).toBeCloseTo(246, 6);
    expect(three.figures.outputTokensPerSec).toBeGreaterThan(2.5 * one.figures.outputTokensPerSec);
  });

  test('max_inputs below the running cap spills requests to wait for a container (the guide’s 20 against 48)', () => {
    const p = measured(candidate({ maxInputs: 20 }));
    expect(p.load.peakRunning).toBe(20);
    expect(p.figures.ttftP95Ms).toBeGreaterThan(1_000);
  });

  test('EAGLE settings matter: one draft step accepts ~1.9 and decodes slower than the guide’s three', () => {
    const one = measured(candidate({}, { 'speculative-num-steps': 1, 'speculative-num-draft-tokens': 2 }));
    const guide = measured(candidate());
    expect(one.figures.acceptLength).toBeGreaterThan(1.8);
    expect(one.figures.acceptLength).toBeLessThan(2);
    expect(one.figures.tpotP50Ms).toBeGreaterThan(guide.figures.tpotP50Ms);
  });

  test('a prompt the pool cannot hold is refused, as SGLang answers 400: every request failed', () => {
    const p = measured(candidate({ workload: { concurrency: 4, requests: 8, inputLen: 70_000, outputLen: 16 } }));
    expect(p.figures).toMatchObject({ completed: 0, failed: 8, errorRate: 1, ttftP95Ms: 0, outputTokensPerSec: 0 });
  });

  test('bad inputs name the field', () => {
    expect(() => candidate({ gpuType: 'T4' })).toThrow(/gpuType: "T4" is not a known GPU type/);
    expect(() => candidate({ maxInputs: 0 })).toThrow(/maxInputs: 0/);
    expect(() => candidate({}, { 'max-running-requestz': 4 })).toThrow(/max-running-requestz/);
  });
});
