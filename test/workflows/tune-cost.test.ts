import type { TrialRecord } from '../../src/shared/tune-types';
import {
  billedSeconds,
  budgetStop,
  DEFAULT_TRIAL_ESTIMATE_SEC,
  estimateTrial,
  spentOn,
  trialCost,
} from '../../src/workflows/tune-cost';
import { testSpec } from '../helpers/test-spec';

const pricing = { dollarsPerGpuHour: 6, source: 'test' };

function trial(index: number, gpuHours: number, maxContainers?: number): TrialRecord {
  return {
    index,
    key: `k${index}`,
    candidate: { args: {}, modal: maxContainers === undefined ? {} : { maxContainers } },
    app: `a-t${index}`,
    outcome: 'measured',
    figures: null,
    load: null,
    meetsSlo: false,
    sloMisses: [],
    objectiveValue: null,
    gpuHours,
    dollars: gpuHours * pricing.dollarsPerGpuHour,
    startedAt: '2026-12-02T00:00:00.000Z',
    durationMs: 1,
    isTornDown: true,
  };
}

describe('what a trial costs and whether the budget pays for the next', () => {
  const base = testSpec('cost'); // 8×B200, maxContainers 1

  it('prices the twin’s start-up at the guide’s time (÷ local.timeScale) and the load as measured', () => {
    // 6 s of start-up at 1/100 = 600 s on the guide's hardware, plus 60 s of load at the guide's latencies.
    expect(billedSeconds({ startupMs: 6_000, restMs: 60_000 }, { startup: 0.01, requests: 1 })).toBe(660);
    expect(billedSeconds({ startupMs: 6_000, restMs: 60_000 }, { startup: 1, requests: 1 })).toBe(66);
  });

  it('bills GPUs per replica × modal.maxContainers', () => {
    expect(trialCost(base, 900, pricing)).toEqual({ gpuHours: 2, dollars: 12 });
    const three = { ...base, modal: { ...base.modal, maxContainers: 3 } };
    expect(trialCost(three, 900, pricing)).toEqual({ gpuHours: 6, dollars: 36 });
  });

  it('estimates the first trial from the caller’s estimate, else the documented default', () => {
    const candidate = { args: {}, modal: {} };
    expect(estimateTrial(base, candidate, [], pricing, 450).gpuHours).toBe(1);
    expect(estimateTrial(base, candidate, [], pricing).seconds).toBe(DEFAULT_TRIAL_ESTIMATE_SEC);
  });

  it('estimates later trials from the mean time of those done, scaled to the candidate’s GPUs', () => {
    // 2 GPU-h on 8 GPUs = 900 s; 6 GPU-h on 24 GPUs = 900 s; 4 GPU-h on 8 = 1800 s: mean 1200 s.
    const done = [trial(1, 2), trial(2, 6, 3), trial(3, 4)];
    const next = estimateTrial(base, { args: {}, modal: { maxContainers: 2 } }, done, pricing);
    expect(next.seconds).toBeCloseTo(1200, 9);
    expect(next.gpuHours).toBeCloseTo((1200 * 16) / 3600, 9);
  });

  it('stops at the trials budget, then when spent + the next trial’s estimate exceeds GPU-hours or dollars', () => {
    const spent = spentOn([trial(1, 2), trial(2, 2)]);
    expect(spent).toEqual({ trials: 2, gpuHours: 4, dollars: 24 });
    const next = { gpuHours: 2, dollars: 12 };
    expect(budgetStop({ trials: 2 }, spent, next)).toBe('budget: 2 trials');
    expect(budgetStop({ trials: 12, gpuHours: 6 }, spent, next)).toBeUndefined();
    expect(budgetStop({ trials: 12, gpuHours: 5.9 }, spent, next)).toMatch(/^budget: 5.9 GPU-hours \(spent 4.00/);
    expect(budgetStop({ trials: 12, dollars: 35 }, spent, next)).toMatch(/^budget: \$35 \(spent \$24.00/);
    expect(budgetStop({ trials: 12, dollars: 36 }, spent, next)).toBeUndefined();
  });
});
