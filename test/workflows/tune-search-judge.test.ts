import type { PerformanceFigures, PerformanceLoad } from '../../src/shared/performance-types';
import type { TrialRecord, TuneCandidate } from '../../src/shared/tune-types';
import { judge } from '../../src/workflows/performance-gate-judge';
import { bestTrial, candidateGpus, judgeTrial, objectiveValue, sloExcess } from '../../src/workflows/tune-trial-judge';
import { testSpec } from '../helpers/test-spec';

// The trial judge: the same verdict as the rollout's performance gate, the objective per GPU-dollar, and the best
// trial with its tie-breaks.

const LOAD: PerformanceLoad = {
  concurrency: 48,
  requestRate: null,
  requests: 64,
  warmupRequests: 0,
  dataset: 'random',
};
const PRICING = { dollarsPerGpuHour: 6.25, source: 'catalog' };

function figures(patch: Partial<PerformanceFigures> = {}): PerformanceFigures {
  return {
    ttftP50Ms: 246,
    ttftP95Ms: 262,
    tpotP50Ms: 10.4,
    tpotP95Ms: 11,
    outputTokensPerSec: 4600,
    requestsPerSec: 36,
    measuredConcurrency: 48,
    completed: 64,
    failed: 0,
    errorRate: 0,
    acceptLength: 3.5,
    durationSec: 10,
    ...patch,
  };
}

function trial(index: number, candidate: TuneCandidate, patch: Partial<TrialRecord>): TrialRecord {
  return {
    index,
    key: `t${index}`,
    candidate,
    app: `a-t${index}`,
    outcome: 'measured',
    figures: figures(),
    load: LOAD,
    meetsSlo: true,
    sloMisses: [],
    objectiveValue: 1000,
    gpuHours: 0,
    dollars: 0,
    startedAt: '2026-12-02T00:00:00.000Z',
    durationMs: 0,
    isTornDown: true,
    ...patch,
  };
}

describe('judgeTrial', () => {
  const spec = testSpec('judge', (s) => {
    s.slo.ttftP95Ms = 300;
  });

  it('meets the SLO exactly when the performance gate passes, with its reasons as the misses', () => {
    for (const ttftP95Ms of [262, 300, 301, 2400]) {
      const measured = figures({ ttftP95Ms });
      const judged = judgeTrial({
        figures: measured,
        load: LOAD,
        slo: spec.slo,
        objective: 'output-tokens-per-sec',
        pricing: PRICING,
        gpus: 8,
      });
      const gate = judge(
        { version: 0, load: LOAD, figures: measured, summary: null, problems: [], timeScale: 1 },
        spec.slo,
      );
      expect(judged.meetsSlo).toBe(gate.verdict === 'pass');
      expect(judged.sloMisses).toEqual(gate.reasons);
    }
    const missed = judgeTrial({
      figures: figures({ ttftP95Ms: 412 }),
      load: LOAD,
      slo: spec.slo,
      objective: 'output-tokens-per-sec',
      pricing: PRICING,
      gpus: 8,
    });
    expect(missed).toEqual({ meetsSlo: false, sloMisses: ['TTFT p95 412 ms > 300 ms'], objectiveValue: 4600 });
  });

  it('too few samples or an unsteady endpoint miss the SLO, as the gate calls them inconclusive', () => {
    const few = judgeTrial({
      figures: figures({ completed: 3 }),
      load: LOAD,
      slo: spec.slo,
      objective: 'output-tokens-per-sec',
      pricing: PRICING,
      gpus: 8,
    });
    expect(few.meetsSlo).toBe(false);
    expect(few.sloMisses[0]).toMatch(/^too few samples: 3 of 64/);
    const unsteady = judgeTrial({
      figures: figures(),
      load: LOAD,
      problems: ['/health 502 after the load'],
      slo: spec.slo,
      objective: 'output-tokens-per-sec',
      pricing: PRICING,
      gpus: 8,
    });
    expect(unsteady.meetsSlo).toBe(false);
  });

  it('no figures: no objective, SLO missed', () => {
    const judged = judgeTrial({
      figures: null,
      load: LOAD,
      slo: spec.slo,
      objective: 'tokens-per-dollar',
      pricing: PRICING,
      gpus: 8,
    });
    expect(judged.meetsSlo).toBe(false);
    expect(judged.objectiveValue).toBeNull();
  });

  it('tokens-per-dollar is tok/s ÷ (GPUs × replicas × $/GPU-h)', () => {
    expect(objectiveValue(figures(), 'tokens-per-dollar', PRICING, 24)).toBeCloseTo(4600 / (24 * 6.25), 9);
    expect(objectiveValue(figures(), 'output-tokens-per-sec', PRICING, 24)).toBe(4600);
    expect(candidateGpus(spec, { args: {}, modal: { maxContainers: 3 } })).toBe(24);
    expect(candidateGpus(spec, { args: {}, modal: {} })).toBe(8 * spec.modal.maxContainers);
  });

  it('sloExcess is the worst figure over its limit (≤ 1 within the SLO)', () => {
    expect(sloExcess(figures({ ttftP95Ms: 150 }), spec.slo)).toBeCloseTo(0.5, 9);
    expect(sloExcess(figures({ ttftP95Ms: 600 }), { ...spec.slo, tpotP95Ms: 5.5 })).toBeCloseTo(2, 9);
    expect(sloExcess(figures({ outputTokensPerSec: 2000 }), { ...spec.slo, minOutputTokensPerSec: 4000 })).toBeCloseTo(
      2,
      9,
    );
  });
});

describe('bestTrial', () => {
  const one = { args: {}, modal: { maxContainers: 1 } };
  const three = { args: {}, modal: { maxContainers: 3 } };

  it('the highest objective among trials that meet the SLO; null when none does', () => {
    const trials = [
      trial(1, one, { objectiveValue: 5000, meetsSlo: false }),
      trial(2, one, { objectiveValue: 4000 }),
      trial(3, one, { objectiveValue: 4200 }),
      trial(4, one, { outcome: 'infeasible', figures: null, objectiveValue: null, meetsSlo: false }),
    ];
    expect(bestTrial(trials)?.index).toBe(3);
    expect(bestTrial([trials[0]!, trials[3]!])).toBeNull();
  });

  it('ties go to fewer GPUs, then to the lower TTFT p95, then to the earlier trial', () => {
    const wide = trial(1, three, { objectiveValue: 4000, figures: figures({ ttftP95Ms: 200 }) });
    const slow = trial(2, one, { objectiveValue: 4000, figures: figures({ ttftP95Ms: 280 }) });
    const quick = trial(3, one, { objectiveValue: 4000, figures: figures({ ttftP95Ms: 250 }) });
    const twin = trial(4, one, { objectiveValue: 4000, figures: figures({ ttftP95Ms: 250 }) });
    expect(bestTrial([wide, slow])?.index).toBe(2);
    expect(bestTrial([wide, slow, quick])?.index).toBe(3);
    expect(bestTrial([twin, wide, quick, slow])?.index).toBe(3);
  });
});
