import type { PerformanceFigures, PerformanceLoad } from '../shared/performance-types';
import type { Spec, TrialRecord, TuneCandidate, TunePricing, TuneSpec } from '../shared/tune-types';
import { judge, type Slo } from './performance-gate-judge';

type TuneObjective = TuneSpec['objective'];

// How a trial's figures become its verdict and its objective, and which trial is best. One pure module, so the tune
// workflow, the search and the trials-vs-grid benchmark judge alike, and the rollout's performance gate (the same
// `judge`) holds the chosen config to the same SLO the tune chose it under.

/** What a trial's figures say against the SLO and the objective. */
export interface TrialJudgement {
  meetsSlo: boolean;
  /** The gate's reasons: the figures that miss the SLO, or why the evidence is insufficient. */
  sloMisses: string[];
  /** tok/s, or tok/s per dollar-hour; null without figures. */
  objectiveValue: number | null;
}

/** What judging a trial needs: its figures and load, the SLO and objective, and the GPUs it may bill. */
export interface TrialEvidence {
  figures: PerformanceFigures | null;
  load: PerformanceLoad;
  /** Signs the endpoint was not steady during the load (they make the gate inconclusive, so the SLO unmet). */
  problems?: string[];
  slo: Slo;
  objective: TuneObjective;
  pricing: TunePricing;
  /** GPUs per replica × the replicas the candidate may run ({@link candidateGpus}). */
  gpus: number;
}

/**
 * Judges one trial as the rollout's performance gate would: it meets the SLO only on a `pass` (a failed check or
 * insufficient evidence both miss it), and its objective is computed from the same figures.
 */
export function judgeTrial(evidence: TrialEvidence): TrialJudgement {
  const verdict = judge(
    {
      version: 0,
      load: evidence.load,
      figures: evidence.figures,
      summary: null,
      problems: evidence.problems ?? [],
      timeScale: 1,
    },
    evidence.slo,
    null,
  );
  return {
    meetsSlo: verdict.verdict === 'pass',
    sloMisses: verdict.reasons,
    objectiveValue: evidence.figures
      ? objectiveValue(evidence.figures, evidence.objective, evidence.pricing, evidence.gpus)
      : null,
  };
}

/**
 * output-tokens-per-sec: the load's output tok/s; tokens-per-dollar: that ÷ the dollars per hour of the GPUs billed
 * (`gpus` × $/GPU-h), i.e. output tokens per second bought by one dollar-per-hour.
 */
export function objectiveValue(
  figures: PerformanceFigures,
  objective: TuneObjective,
  pricing: TunePricing,
  gpus: number,
): number {
  if (objective === 'output-tokens-per-sec') return figures.outputTokensPerSec;
  return figures.outputTokensPerSec / (gpus * pricing.dollarsPerGpuHour);
}

/**
 * The GPUs a candidate may bill: GPUs per replica × `modal.maxContainers` (the candidate's, else the spec's). The
 * most replicas it can scale to is what a sustained load at the tune's workload may keep running, so a container the
 * load cannot fill is charged, not free (guide §1: 3 × 48 ≈ 144 slots; §8 cost strategies).
 */
export function candidateGpus(spec: Spec, candidate?: TuneCandidate): number {
  return spec.gpu.count * (candidate?.modal.maxContainers ?? spec.modal.maxContainers);
}

/**
 * How far the figures are past the SLO: the largest measured/limit ratio over the stated ceilings (limit/measured
 * for floors); ≤ 1 when every figure is within its limit. Lets a search walk towards the SLO from a point that misses.
 */
export function sloExcess(figures: PerformanceFigures, slo: Slo): number {
  const ratios = [figures.ttftP95Ms / slo.ttftP95Ms];
  if (slo.tpotP50Ms !== undefined) ratios.push(figures.tpotP50Ms / slo.tpotP50Ms);
  if (slo.tpotP95Ms !== undefined) ratios.push(figures.tpotP95Ms / slo.tpotP95Ms);
  if (slo.minOutputTokensPerSec !== undefined) {
    ratios.push(figures.outputTokensPerSec > 0 ? slo.minOutputTokensPerSec / figures.outputTokensPerSec : Infinity);
  }
  if (slo.minAcceptLength !== undefined && figures.acceptLength !== null) {
    ratios.push(figures.acceptLength > 0 ? slo.minAcceptLength / figures.acceptLength : Infinity);
  }
  return Math.max(...ratios);
}

/**
 * Orders two trials, better first (negative when `a` is better): a trial that meets the SLO beats one that does not;
 * then the higher objective; ties → fewer GPUs, then the lower TTFT p95; 0 when all of that is equal. Every trial of
 * a tune has the base spec's GPUs per replica, so fewer GPUs is fewer `modal.maxContainers` (a lever of every
 * candidate when the space varies it, nobody's otherwise).
 */
export function compareJudged(a: TrialRecord, b: TrialRecord): number {
  if (a.meetsSlo !== b.meetsSlo) return a.meetsSlo ? -1 : 1;
  const objective = (b.objectiveValue ?? -Infinity) - (a.objectiveValue ?? -Infinity);
  if (objective !== 0 && !Number.isNaN(objective)) return objective;
  const replicas = (a.candidate.modal.maxContainers ?? 0) - (b.candidate.modal.maxContainers ?? 0);
  if (replicas !== 0) return replicas;
  const ttft = (a.figures?.ttftP95Ms ?? Infinity) - (b.figures?.ttftP95Ms ?? Infinity);
  return ttft !== 0 && !Number.isNaN(ttft) ? ttft : 0;
}

/** {@link compareJudged}, then the earlier trial first: a total order, so the best is the same on every replay. */
export function compareTrials(a: TrialRecord, b: TrialRecord): number {
  return compareJudged(a, b) || a.index - b.index;
}

/** The measured trial that meets the SLO with the best objective (ties as {@link compareTrials}); null when none does. */
export function bestTrial(trials: readonly TrialRecord[]): TrialRecord | null {
  const meeting = trials.filter((trial) => trial.outcome === 'measured' && trial.meetsSlo);
  return [...meeting].sort(compareTrials)[0] ?? null;
}
