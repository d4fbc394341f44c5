import type { PerformanceFigures, PerformanceLoad } from '../shared/performance-types';
import type { Spec, TrialRecord, TuneObjective, TunePricing } from '../shared/tune-types';
import { judge, type Slo } from './performance-gate-judge';

// How a measured trial is judged: the rollout's performance gate's own verdict (so the gate at the chosen config
// judges the same way), and the objective's value. Pure (it runs in the workflow).

/** What a trial measured, and what it is judged against. */
export interface TrialJudgeInput {
  figures: PerformanceFigures | null;
  load: PerformanceLoad;
  problems: string[];
  slo: Slo;
  objective: TuneObjective;
  pricing: TunePricing;
  /** GPUs the candidate may bill: per replica × modal.maxContainers. */
  gpus: number;
}

export interface TrialJudgement {
  meetsSlo: boolean;
  sloMisses: string[];
  objectiveValue: number | null;
}

/** GPUs a candidate may bill: GPUs per replica × `modal.maxContainers` (the candidate applied). */
export function candidateGpus(spec: Pick<Spec, 'gpu' | 'modal'>): number {
  return spec.gpu.count * Math.max(1, spec.modal.maxContainers);
}

/** The gate's verdict on the figures (pass = meets the SLO; its reasons are the misses) and the objective's value. */
export function judgeTrial(input: TrialJudgeInput): TrialJudgement {
  const verdict = judge(
    { version: 0, load: input.load, figures: input.figures, summary: null, problems: input.problems, timeScale: 1 },
    input.slo,
  );
  const figures = input.figures;
  const objectiveValue =
    figures === null
      ? null
      : input.objective === 'output-tokens-per-sec'
        ? figures.outputTokensPerSec
        : figures.outputTokensPerSec / (input.gpus * input.pricing.dollarsPerGpuHour);
  return { meetsSlo: verdict.verdict === 'pass', sloMisses: verdict.reasons, objectiveValue };
}

/** The measured trial that meets the SLO with the highest objective (ties: the earlier); null when none does. */
export function bestTrial(trials: readonly TrialRecord[]): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const trial of trials) {
    if (trial.outcome !== 'measured' || !trial.meetsSlo || trial.objectiveValue === null) continue;
    if (!best || trial.objectiveValue > best.objectiveValue!) best = trial;
  }
  return best;
}
