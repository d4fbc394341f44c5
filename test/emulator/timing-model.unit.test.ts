import { TimingModel } from '../../src/emulator/emulator-config';
import {
  decodeProfile,
  GUIDE_SPECULATIVE,
  planSteps,
  planTiming,
  resolveSpeculative,
  type StepOptions,
} from '../../src/emulator/timing-model';

// The timing model's arithmetic, without a server: the guide's §10 constants in, the plan out.
// (timing-model.test.ts checks the same plan as a running emulator reports it.)
const guide = TimingModel.parse({});
const inputs = { promptTokens: 0, queueMs: 0, running: 1, isSpeculative: true, timeScale: 1 };

describe('planTiming', () => {
  test.each([
    ['EAGLE, short prompt, alone', {}, { queueMs: 0, ttftMs: 240, tpotMs: 7.7 }],
    ['without EAGLE', { isSpeculative: false }, { queueMs: 0, ttftMs: 240, tpotMs: 20 }],
    ['prefill grows 0.006 ms per prompt token', { promptTokens: 1000 }, { queueMs: 0, ttftMs: 246, tpotMs: 7.7 }],
    ['the queue wait is part of TTFT', { queueMs: 50 }, { queueMs: 50, ttftMs: 290, tpotMs: 7.7 }],
    [
      'TPOT grows 0.75 % per extra running request; at the verify cap TTFT has not moved',
      { running: 48 },
      { queueMs: 0, ttftMs: 240, tpotMs: 7.7 * 1.3525 },
    ],
    [
      'one past the verify cap: 47 ms behind the verify backlog, TPOT 1.63 % more',
      { running: 49 },
      { queueMs: 0, ttftMs: 287, tpotMs: 7.7 * (1 + 0.0075 * 48 + 0.0163) },
    ],
    [
      'twice the verify cap (§18: TTFT 2-3 s under load)',
      { running: 96, promptTokens: 1000 },
      { queueMs: 0, ttftMs: 246 + 47 * 48, tpotMs: 7.7 * (1 + 0.0075 * 95 + 0.0163 * 48) },
    ],
    [
      'without EAGLE there is no verify backlog, at any batch',
      { running: 96, isSpeculative: false },
      { queueMs: 0, ttftMs: 240, tpotMs: 20 * (1 + 0.0075 * 95) },
    ],
    ['time scale applies to prefill and TPOT', { timeScale: 0.001 }, { queueMs: 0, ttftMs: 0.24, tpotMs: 0.0077 }],
    [
      'time scale applies to the verify wait',
      { timeScale: 0.01, running: 50 },
      { queueMs: 0, ttftMs: 2.4 + 0.94, tpotMs: 0.077 * (1 + 0.0075 * 49 + 0.0163 * 2) },
    ],
    [
      'time scale does not apply to the measured queue wait',
      { timeScale: 0.5, queueMs: 10 },
      { queueMs: 10, ttftMs: 130, tpotMs: 3.85 },
    ],
  ])('%s', (_name, over, expected) => {
    const timing = planTiming(guide, { ...inputs, ...over });
    expect(timing.queueMs).toBe(expected.queueMs);
    expect(timing.ttftMs).toBeCloseTo(expected.ttftMs, 9);
    expect(timing.tpotMs).toBeCloseTo(expected.tpotMs, 9);
    expect(timing.queueMs + timing.prefillMs + timing.verifyWaitMs).toBeCloseTo(timing.ttftMs, 9);
  });

  test('verifyBatchCap 0 turns the verify backlog off', () => {
    const timing = planTiming(TimingModel.parse({ verifyBatchCap: 0 }), { ...inputs, running: 200 });
    expect(timing.verifyWaitMs).toBe(0);
    expect(timing.tpotMs).toBeCloseTo(7.7 * (1 + 0.0075 * 199), 9);
  });

  test('reports the running count it planned for', () => {
    expect(planTiming(guide, { ...inputs, running: 7 }).running).toBe(7);
  });
});

describe('decodeProfile (the EAGLE settings)', () => {
  test('the guide’s 3 steps / topk 1 / 4 draft tokens give exactly its TPOT and accept length', () => {
    const profile = decodeProfile(guide, true, GUIDE_SPECULATIVE);
    expect(profile.tpotMs).toBeCloseTo(7.7, 9);
    expect(profile.meanAccept).toBeCloseTo(3.5, 9);
    expect(profile).toMatchObject({ maxAccept: 4, loadScale: 1 });
  });

  test('without EAGLE: plain decoding, one token a step', () => {
    expect(decodeProfile(guide, false)).toEqual({ tpotMs: 20, meanAccept: 1, maxAccept: 1, loadScale: 1 });
  });

  test('deeper drafts accept more, each step costs more, and their draft tokens weigh on the batch', () => {
    const depths = [1, 2, 3, 5].map((numSteps) =>
      decodeProfile(guide, true, { numSteps, topk: 1, numDraftTokens: numSteps + 1 }),
    );
    const accepts = depths.map((p) => p.meanAccept);
    expect(accepts).toEqual([...accepts].sort((a, b) => a - b));
    expect(depths[0]!.meanAccept).toBeLessThan(2);
    expect(depths[0]!.tpotMs).toBeGreaterThan(depths[2]!.tpotMs);
    expect(depths[3]!.loadScale).toBeCloseTo(1.5, 9);
    // Step time = TPOT × accept: it grows with the depth.
    const stepMs = depths.map((p) => p.tpotMs * p.meanAccept);
    expect(stepMs).toEqual([...stepMs].sort((a, b) => a - b));
  });

  test('planTiming takes the settings: 48 running at 5 steps pay the heavier verify pass per request', () => {
    const deep = { numSteps: 5, topk: 1, numDraftTokens: 6 };
    const at48 = planTiming(guide, { ...inputs, running: 48, speculative: deep });
    const solo = decodeProfile(guide, true, deep).tpotMs;
    expect(at48.tpotMs).toBeCloseTo(solo * (1 + 0.0075 * 1.5 * 47), 9);
  });
});

describe('resolveSpeculative (SGLang’s server_args)', () => {
  test('unset: the auto-choice for GLM/DeepSeek models, 3 / 1 / 4', () => {
    expect(resolveSpeculative({})).toEqual({ ...GUIDE_SPECULATIVE, isDraftTokensAdjusted: false });
  });

  test('topk 1 forces draft tokens to steps + 1', () => {
    expect(resolveSpeculative({ numSteps: 5, topk: 1, numDraftTokens: 4 })).toEqual({
      numSteps: 5,
      topk: 1,
      numDraftTokens: 6,
      isDraftTokensAdjusted: true,
    });
  });

  test('a tree (topk > 1) keeps the draft tokens asked for', () => {
    expect(resolveSpeculative({ numSteps: 3, topk: 4, numDraftTokens: 8 })).toMatchObject({ numDraftTokens: 8 });
  });
});

describe('planSteps', () => {
  const tokens = Array.from({ length: 40 }, (_, i) => i);
  const eagle = (random: () => number): StepOptions => ({
    tpotMs: 7.7,
    isSpeculative: true,
    maxAccept: 4,
    meanAccept: 3.5,
    random,
  });

  test('no tokens, no steps', () => {
    expect(
      planSteps(
        [],
        eagle(() => 0),
      ),
    ).toEqual([]);
  });

  test('the prefill step yields the first token alone, at offset 0', () => {
    expect(
      planSteps(
        tokens,
        eagle(() => 0),
      )[0],
    ).toEqual({ atMs: 0, tokens: [0] });
  });

  test('without EAGLE: one token per step, on the TPOT grid', () => {
    const steps = planSteps(tokens.slice(0, 5), { ...eagle(() => 0), isSpeculative: false, tpotMs: 20 });
    expect(steps).toEqual([
      { atMs: 0, tokens: [0] },
      { atMs: 20, tokens: [1] },
      { atMs: 40, tokens: [2] },
      { atMs: 60, tokens: [3] },
      { atMs: 80, tokens: [4] },
    ]);
  });

  test('EAGLE: a draw under the fraction takes the longer accept length, otherwise the shorter', () => {
    const long = planSteps(
      tokens.slice(0, 9),
      eagle(() => 0.49),
    );
    expect(long.map((s) => s.tokens.length)).toEqual([1, 4, 4]);
    const short = planSteps(
      tokens.slice(0, 7),
      eagle(() => 0.5),
    );
    expect(short.map((s) => s.tokens.length)).toEqual([1, 3, 3]);
  });

  test('a step lands when its last token is due, so (latency - TTFT) / (n - 1) is TPOT', () => {
    const steps = planSteps(
      tokens,
      eagle(() => 0.3),
    );
    const last = steps.at(-1)!;
    expect(last.atMs / (tokens.length - 1)).toBeCloseTo(7.7, 9);
    for (const step of steps) expect(step.atMs).toBeCloseTo((step.tokens.at(-1) as number) * 7.7, 9);
  });

  test('every token is delivered once, in order, and the last step is cut to what is left', () => {
    const steps = planSteps(
      tokens.slice(0, 6),
      eagle(() => 0),
    );
    expect(steps.flatMap((s) => s.tokens)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(steps.map((s) => s.tokens.length)).toEqual([1, 4, 1]);
  });

  test('accept lengths never exceed maxAccept, and a mean of 3.5 mixes 3s and 4s', () => {
    let state = 1;
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
    const sizes = planSteps(
      Array.from({ length: 4001 }, (_, i) => i),
      eagle(random),
    )
      .slice(1, -1)
      .map((s) => s.tokens.length);
    expect(new Set(sizes)).toEqual(new Set([3, 4]));
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(3.4);
    expect(mean).toBeLessThan(3.6);
  });

  test('an integral mean gives verify steps of exactly that length, whatever the draw', () => {
    for (const draw of [0, 0.5, 0.99]) {
      const steps = planSteps(tokens.slice(0, 7), { ...eagle(() => draw), maxAccept: 3, meanAccept: 3 });
      expect(steps.map((s) => s.tokens.length)).toEqual([1, 3, 3]);
    }
  });
});
