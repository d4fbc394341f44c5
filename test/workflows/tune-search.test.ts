import type { PerformanceFigures, PerformanceLoad } from '../../src/shared/performance-types';
import type { TrialRecord, TuneCandidate, TunePricing } from '../../src/shared/tune-types';
import type { Spec } from '../../src/spec/schema';
import { TuneSpec, type TuneSpecInput } from '../../src/spec/tune-schema';
import { planNextTrials, type SearchStep } from '../../src/workflows/tune-search';
import { guidedStep } from '../../src/workflows/tune-search-guided';
import { candidateKey, gridCandidates, gridSize } from '../../src/workflows/tune-space';
import { bestTrial, candidateGpus, judgeTrial } from '../../src/workflows/tune-trial-judge';
import { testSpec } from '../helpers/test-spec';

// The guided search against a trial oracle of the test's own: a closed form of what the guide says the levers do
// (OOM above the GPU's mem-fraction, EAGLE ~2.6× faster decoding whose verify queue inflates TTFT past ~40 running,
// Modal spilling to a new replica at maxInputs, users queueing past the running cap, a smaller KV pool a little
// slower). The search never sees it: it only reads the trial records, as in the tune workflow.

const PRICING: TunePricing = { dollarsPerGpuHour: 6.25, source: 'catalog' };
const MEM_LIMIT: Record<string, number> = { B200: 0.9, H200: 0.85 };
const OUTPUT_TOKENS = 128;

function baseSpec(gpu = 'B200'): Spec {
  return testSpec('tune-search', (spec) => {
    spec.gpu.type = gpu;
    spec.slo.ttftP95Ms = 300;
  });
}

function tuneOf(space: TuneSpecInput['space'], patch: Partial<TuneSpecInput> = {}, users = 48): TuneSpec {
  return TuneSpec.parse({
    space,
    workload: { concurrency: users, requests: 64, warmupRequests: 0 },
    ...patch,
  });
}

const LOAD: PerformanceLoad = {
  concurrency: 48,
  requestRate: null,
  requests: 64,
  warmupRequests: 0,
  dataset: 'random 256→128 tokens',
};

interface Answer {
  outcome: TrialRecord['outcome'];
  reason?: string;
  figures: PerformanceFigures | null;
}

type Oracle = (spec: Spec, candidate: TuneCandidate, users: number) => Answer;

const guideOracle: Oracle = (spec, candidate, users) => {
  const arg = (flag: string): unknown => candidate.args[flag] ?? spec.sglang.args[flag];
  const memFraction = Number(arg('mem-fraction-static'));
  if (memFraction > (MEM_LIMIT[spec.gpu.type] ?? 0.9)) {
    return { outcome: 'infeasible', reason: 'CUDA out of memory: SGLang died (code -9)', figures: null };
  }
  const isEagle = arg('speculative-algorithm') === 'EAGLE';
  const steps = Number(arg('speculative-num-steps') ?? 3);
  const maxInputs = candidate.modal.maxInputs ?? spec.modal.maxInputs;
  const maxContainers = candidate.modal.maxContainers ?? spec.modal.maxContainers;
  const cap = Number(arg('max-running-requests'));
  const containers = Math.min(maxContainers, Math.ceil(users / maxInputs));
  const perContainer = users / containers;
  const running = Math.min(cap, maxInputs, perContainer);
  const waiting = perContainer - running;
  const tpotMs =
    (isEagle ? (7.7 * 3.5) / Math.min(3.5, steps + 1) : 20) * (1 + 0.0075 * (running - 1)) * (1 + (0.9 - memFraction));
  const e2eMs = 246 + OUTPUT_TOKENS * tpotMs;
  const ttftMs = 246 + (isEagle ? 47 * Math.max(0, running - 40) : 0) + (waiting > 0 ? (e2eMs * waiting) / running : 0);
  return {
    outcome: 'measured',
    figures: {
      ttftP50Ms: ttftMs * 0.9,
      ttftP95Ms: ttftMs,
      tpotP50Ms: tpotMs,
      tpotP95Ms: tpotMs * 1.1,
      outputTokensPerSec: (containers * running * OUTPUT_TOKENS * 1000) / e2eMs,
      requestsPerSec: (containers * running * 1000) / e2eMs,
      measuredConcurrency: users,
      completed: 64,
      failed: 0,
      errorRate: 0,
      acceptLength: isEagle ? Math.min(3.5, steps + 1) : null,
      durationSec: 10,
    },
  };
};

function record(spec: Spec, tune: TuneSpec, index: number, candidate: TuneCandidate, answer: Answer): TrialRecord {
  const judged = judgeTrial({
    figures: answer.figures,
    load: LOAD,
    slo: spec.slo,
    objective: tune.objective,
    pricing: PRICING,
    gpus: candidateGpus(spec, candidate),
  });
  return {
    index,
    key: candidateKey(candidate),
    candidate,
    app: `tune-search-t${index}`,
    outcome: answer.outcome,
    ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    figures: answer.figures,
    load: LOAD,
    ...judged,
    gpuHours: 0,
    dollars: 0,
    startedAt: '2026-12-02T00:00:00.000Z',
    durationMs: 0,
    isTornDown: true,
  };
}

/** A finished trial of `args`/`modal` measured by the oracle. */
function trialAt(
  spec: Spec,
  tune: TuneSpec,
  index: number,
  candidate: TuneCandidate,
  oracle = guideOracle,
): TrialRecord {
  return record(spec, tune, index, candidate, oracle(spec, candidate, tune.workload?.concurrency ?? 4));
}

/** The tune's loop: plan, run `next`, record, plan again, until `next` is empty (a guard stops a search that never ends). */
function runSearch(
  spec: Spec,
  tune: TuneSpec,
  oracle: Oracle = guideOracle,
): { trials: TrialRecord[]; steps: SearchStep[] } {
  const trials: TrialRecord[] = [];
  const steps: SearchStep[] = [];
  const guard = gridSize(tune.space) + 1;
  for (;;) {
    const step = planNextTrials({ spec, tune, trials });
    steps.push(step);
    if (step.next.length === 0) return { trials, steps };
    for (const candidate of step.next) {
      if (trials.length >= guard) throw new Error(`no end after ${trials.length} trials`);
      trials.push(trialAt(spec, tune, trials.length + 1, candidate, oracle));
    }
  }
}

const point = (args: TuneCandidate['args'], modal: TuneCandidate['modal'] = {}): TuneCandidate => ({ args, modal });
const reasonOf = (step: SearchStep, key: string): string | undefined =>
  step.pruned.find((pruned) => pruned.key === key)?.reason;

describe('guided search: the rules', () => {
  it('an OOM at a mem-fraction rules out every point at it or above, whatever the other levers, and moves down', () => {
    const spec = baseSpec();
    const tune = tuneOf({
      args: { 'mem-fraction-static': [0.85, 0.88, 0.9, 0.92], 'max-running-requests': [32, 48] },
    });
    const first = planNextTrials({ spec, tune, trials: [] });
    expect(first.next.map(candidateKey)).toEqual(['mem-fraction-static=0.92 max-running-requests=48']);

    const oom = record(spec, tune, 1, first.next[0]!, {
      outcome: 'infeasible',
      reason: 'CUDA out of memory: SGLang died (code -9)',
      figures: null,
    });
    const step = planNextTrials({ spec, tune, trials: [oom] });
    const infeasible = step.pruned.filter((pruned) => pruned.reason.startsWith('infeasible'));
    expect(infeasible.map((pruned) => pruned.key).sort()).toEqual(
      ['mem-fraction-static=0.92 max-running-requests=32'].sort(),
    );
    expect(infeasible[0]!.reason).toContain('ran out of memory in trial 1');
    expect(step.next.map(candidateKey)).toEqual(['mem-fraction-static=0.9 max-running-requests=48']);

    const second = record(spec, tune, 2, step.next[0]!, {
      outcome: 'infeasible',
      reason: 'CUDA out of memory: SGLang died (code -9)',
      figures: null,
    });
    const after = planNextTrials({ spec, tune, trials: [oom, second] });
    expect(
      after.pruned
        .filter((pruned) => pruned.reason.startsWith('infeasible'))
        .map((pruned) => pruned.key)
        .sort(),
    ).toEqual(['mem-fraction-static=0.9 max-running-requests=32', 'mem-fraction-static=0.92 max-running-requests=32']);
    expect(after.next.map(candidateKey)).toEqual(['mem-fraction-static=0.88 max-running-requests=48']);
  });

  it('an infeasible trial that is not an OOM (health never 200) rules out no mem-fraction', () => {
    const spec = baseSpec();
    const tune = tuneOf({ args: { 'mem-fraction-static': [0.85, 0.88], 'max-running-requests': [32, 48] } });
    const failed = record(spec, tune, 1, point({ 'mem-fraction-static': 0.88, 'max-running-requests': 48 }), {
      outcome: 'infeasible',
      reason: '/health never returned 200 within 60 s',
      figures: null,
    });
    const step = planNextTrials({ spec, tune, trials: [failed] });
    expect(step.pruned.filter((pruned) => pruned.reason.startsWith('infeasible'))).toEqual([]);
    expect(step.next.map(candidateKey)).toEqual(['mem-fraction-static=0.88 max-running-requests=32']);
  });

  it('searches mem-fraction from the top down: lower values wait, as a smaller KV pool never adds throughput', () => {
    const spec = baseSpec();
    const tune = tuneOf({ args: { 'mem-fraction-static': [0.83, 0.85, 0.88] } });
    const step = planNextTrials({ spec, tune, trials: [] });
    expect(step.next.map(candidateKey)).toEqual(['mem-fraction-static=0.88']);
    expect(reasonOf(step, 'mem-fraction-static=0.85')).toMatch(/below 0\.88: a smaller KV pool never adds throughput/);
    expect(reasonOf(step, 'mem-fraction-static=0.83')).toMatch(/below 0\.88/);
    const measured = trialAt(spec, tune, 1, step.next[0]!);
    expect(measured.outcome).toBe('measured');
    expect(planNextTrials({ spec, tune, trials: [measured] }).next).toEqual([]);
  });

  it('collapses max-running-requests above what reaches a container (min(maxInputs, users)) to one point', () => {
    const spec = baseSpec();
    spec.modal.maxInputs = 64;
    const tune = tuneOf({ args: { 'max-running-requests': [24, 32, 48, 64] } }, {}, 32);
    const step = planNextTrials({ spec, tune, trials: [] });
    expect(reasonOf(step, 'max-running-requests=48')).toMatch(
      /^same as max-running-requests=32: .*admits nothing more/,
    );
    expect(reasonOf(step, 'max-running-requests=64')).toMatch(/^same as max-running-requests=32/);
    expect(reasonOf(step, 'max-running-requests=32')).toBeUndefined();
    expect(reasonOf(step, 'max-running-requests=24')).toBeUndefined();

    const wider = planNextTrials({ spec, tune: tuneOf(tune.space, {}, 64), trials: [] });
    expect(wider.pruned).toEqual([]);
  });

  it('a running cap above modal.maxInputs is the same as the cap at maxInputs (slots above it stay idle)', () => {
    const spec = baseSpec();
    const tune = tuneOf({ args: { 'max-running-requests': [16, 32] }, modal: { maxInputs: [16, 48] } });
    const step = planNextTrials({ spec, tune, trials: [] });
    expect(reasonOf(step, 'max-running-requests=32 modal.maxInputs=16')).toMatch(
      /^same as max-running-requests=16 modal.maxInputs=16/,
    );
    expect(reasonOf(step, 'max-running-requests=32 modal.maxInputs=48')).toBeUndefined();
  });

  it('tries a point whose maxInputs leaves running slots idle after the others of its line', () => {
    const spec = baseSpec();
    spec.sglang.args['max-running-requests'] = 48;
    spec.modal.maxContainers = 3;
    const tune = tuneOf({ modal: { maxInputs: [20, 48] } }, { strategy: 'guided' }, 144);
    const first = planNextTrials({ spec, tune, trials: [] });
    expect(first.next.map(candidateKey)).toEqual(['modal.maxInputs=48']);
    const trials = [trialAt(spec, tune, 1, first.next[0]!)];
    expect(planNextTrials({ spec, tune, trials }).next.map(candidateKey)).toEqual(['modal.maxInputs=20']);
    const pruned = guidedStep(spec, tune, [], { method: 'pruned-grid', isPruning: true });
    expect([...pruned.next.map(candidateKey), ...pruned.planned]).toEqual(['modal.maxInputs=48', 'modal.maxInputs=20']);
  });

  it('rules out maxContainers beyond what the users fill (users / min(maxInputs, running cap)): cost, not throughput', () => {
    const spec = baseSpec();
    spec.sglang.args['max-running-requests'] = 48;
    spec.modal.maxInputs = 48;
    const tune = tuneOf({ modal: { maxContainers: [1, 2, 3, 4] } }, {}, 48);
    const step = planNextTrials({ spec, tune, trials: [] });
    expect(step.pruned.map((pruned) => pruned.key)).toEqual([
      'modal.maxContainers=2',
      'modal.maxContainers=3',
      'modal.maxContainers=4',
    ]);
    expect(reasonOf(step, 'modal.maxContainers=3')).toMatch(
      /^same as modal.maxContainers=1: modal.maxContainers 3 beyond the 1 that 48 users fill .*adds cost, not throughput/,
    );

    const busy = planNextTrials({ spec, tune: tuneOf(tune.space, {}, 144), trials: [] });
    expect(busy.pruned.map((pruned) => pruned.key)).toEqual(['modal.maxContainers=4']);
  });

  it('without EAGLE the other speculative flags do nothing: those points collapse to one', () => {
    const spec = baseSpec();
    const tune = tuneOf({ args: { 'speculative-algorithm': ['EAGLE', false], 'speculative-num-steps': [2, 3, 4] } });
    const step = planNextTrials({ spec, tune, trials: [] });
    expect(step.pruned.map((pruned) => pruned.key)).toEqual([
      'speculative-algorithm=false speculative-num-steps=3',
      'speculative-algorithm=false speculative-num-steps=4',
    ]);
    expect(reasonOf(step, 'speculative-algorithm=false speculative-num-steps=4')).toMatch(
      /^same as speculative-algorithm=false speculative-num-steps=2: EAGLE off/,
    );
  });

  it('a request rate without users collapses nothing that depends on the users', () => {
    const spec = baseSpec();
    spec.modal.maxInputs = 64;
    const tune = TuneSpec.parse({
      space: { args: { 'max-running-requests': [32, 48, 64] }, modal: { maxContainers: [1, 2, 3] } },
      workload: { requestRate: 10, requests: 64 },
    });
    expect(planNextTrials({ spec, tune, trials: [] }).pruned).toEqual([]);
  });
});

const DEMO_SPACE: TuneSpecInput['space'] = {
  args: {
    'max-running-requests': [16, 24, 32, 40, 48, 64],
    'mem-fraction-static': [0.83, 0.85, 0.88, 0.9],
    'speculative-algorithm': ['EAGLE', false],
    'speculative-num-steps': [1, 2, 3, 4],
  },
  modal: { maxInputs: [16, 32, 48, 64], maxContainers: [1, 2, 3, 4] },
};
const GUIDE_SPACE: TuneSpecInput['space'] = {
  args: {
    'max-running-requests': { from: 32, to: 64, step: 8 },
    'mem-fraction-static': [0.85, 0.88, 0.9],
    'speculative-algorithm': ['EAGLE', false],
  },
  modal: { maxInputs: [20, 48], maxContainers: [1, 2, 3] },
};

describe('guided search against the grid', () => {
  const cases = [
    { space: 'demo', levers: DEMO_SPACE, gpu: 'B200', users: 48 },
    { space: 'demo', levers: DEMO_SPACE, gpu: 'H200', users: 144 },
    { space: 'guide', levers: GUIDE_SPACE, gpu: 'B200', users: 144 },
    { space: 'guide', levers: GUIDE_SPACE, gpu: 'H200', users: 48 },
  ].flatMap((c) => (['output-tokens-per-sec', 'tokens-per-dollar'] as const).map((objective) => ({ ...c, objective })));

  it.each(cases)(
    '$space space on $gpu, $users users, $objective: within 2% of the grid best in under a fifth of its trials',
    ({ levers, gpu, users, objective }) => {
      const spec = baseSpec(gpu);
      const tune = tuneOf(levers, { objective }, users);
      // The grid strategy's trials, point by point in grid order (the walk the grid test below checks), without
      // re-planning after each: that filter over the whole grid per step is quadratic in 3,072 points.
      const grid = gridCandidates(tune.space).map((candidate, at) => trialAt(spec, tune, at + 1, candidate));
      const guided = runSearch(spec, tune);
      const gridBest = bestTrial(grid);
      const guidedBest = bestTrial(guided.trials);
      expect(gridBest?.meetsSlo).toBe(true);
      expect(guidedBest?.meetsSlo).toBe(true);
      expect(guidedBest!.objectiveValue!).toBeGreaterThanOrEqual(0.98 * gridBest!.objectiveValue!);
      expect(guided.trials.length).toBeLessThan(grid.length / 5);
    },
  );
});

describe('guided search: determinism and termination', () => {
  it('the same trials give the same step, also after a JSON round trip (as the workflow history holds them)', () => {
    const spec = baseSpec('H200');
    const tune = tuneOf(DEMO_SPACE, {}, 144);
    const { trials } = runSearch(spec, tune);
    expect(trials.length).toBeGreaterThan(3);
    for (const upTo of [0, 1, 2, trials.length]) {
      const done = trials.slice(0, upTo);
      const once = planNextTrials({ spec, tune, trials: done });
      const again = planNextTrials(JSON.parse(JSON.stringify({ spec, tune, trials: done })));
      expect(again).toEqual(once);
    }
    expect(runSearch(spec, tune).trials.map((trial) => trial.key)).toEqual(trials.map((trial) => trial.key));
  });

  it('never plans a point twice, nor one it ruled out', () => {
    const spec = baseSpec('H200');
    const tune = tuneOf(DEMO_SPACE, { objective: 'tokens-per-dollar' }, 48);
    const { trials, steps } = runSearch(spec, tune);
    const keys = trials.map((trial) => trial.key);
    expect(new Set(keys).size).toBe(keys.length);
    steps.forEach((step, at) => {
      const pruned = new Set(step.pruned.map((p) => p.key));
      for (const candidate of step.next) expect(pruned.has(candidateKey(candidate))).toBe(false);
      for (const key of step.planned) expect(keys.slice(0, at).includes(key)).toBe(false);
    });
  });

  it('the grid strategy still walks every point, in grid order, and prunes nothing', () => {
    const spec = baseSpec();
    const tune = tuneOf(GUIDE_SPACE, { strategy: 'grid' });
    const { trials, steps } = runSearch(spec, tune);
    expect(trials.map((trial) => trial.key)).toEqual(gridCandidates(tune.space).map(candidateKey));
    expect(steps.every((step) => step.pruned.length === 0)).toBe(true);
    expect(steps).toHaveLength(gridSize(tune.space) + 1);
  });

  it('ends when every trial is an OOM (all pruned), and when every trial fails', () => {
    const spec = baseSpec();
    const tune = tuneOf(GUIDE_SPACE);
    const oom = runSearch(spec, tune, () => ({
      outcome: 'infeasible',
      reason: 'CUDA out of memory: SGLang died (code -9)',
      figures: null,
    }));
    expect(oom.trials.map((trial) => trial.key)).toEqual([
      'max-running-requests=48 mem-fraction-static=0.9 speculative-algorithm=EAGLE modal.maxInputs=48 modal.maxContainers=1',
      'max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=EAGLE modal.maxInputs=48 modal.maxContainers=1',
      'max-running-requests=48 mem-fraction-static=0.85 speculative-algorithm=EAGLE modal.maxInputs=48 modal.maxContainers=1',
    ]);
    const last = oom.steps[oom.steps.length - 1]!;
    expect(last.pruned).toHaveLength(gridSize(tune.space) - 3);

    const failing = runSearch(spec, tune, () => ({ outcome: 'failed', reason: 'platform unreachable', figures: null }));
    expect(failing.trials.length).toBeGreaterThan(1);
    expect(failing.trials.length).toBeLessThan(gridSize(tune.space));
    expect(bestTrial(failing.trials)).toBeNull();
  });
});
