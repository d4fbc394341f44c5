import type { PrunedPoint, Spec, TrialRecord, TuneCandidate, TuneSpec } from '../shared/tune-types';
import { guidedStep } from './tune-search-guided';
import { candidateKey, gridCandidates } from './tune-space';

/** What the search knows when it picks the next trials. */
export interface SearchInput {
  /** The base spec: the values of levers the space does not vary, the GPU, the SLO. */
  spec: Spec;
  tune: TuneSpec;
  /** Every trial finished so far, in order. */
  trials: readonly TrialRecord[];
}

/** The search's answer: what to try next, what it will try after, and what it ruled out without a trial. */
export interface SearchStep {
  /** The candidate(s) to run now; empty when the search is done. */
  next: TuneCandidate[];
  /** Keys of the candidates after `next`, in order, as far as the search can say now. */
  planned: string[];
  pruned: PrunedPoint[];
}

/**
 * Picks the next trials. `grid` walks every point in order; `guided` (the default) rules out what the guide says
 * cannot win (OOM above a memory fraction, a smaller KV pool, running caps and containers the workload cannot fill,
 * EAGLE's flags without EAGLE) and walks the rest by coordinate descent (tune-search-guided.ts). Deterministic (it
 * runs in the workflow): the same trials in, the same answer out.
 */
export function planNextTrials(input: SearchInput): SearchStep {
  if (input.tune.strategy === 'grid') return gridStep(input);
  return guidedStep(input.spec, input.tune, input.trials);
}

function gridStep(input: SearchInput): SearchStep {
  const tried = new Set(input.trials.map((trial) => trial.key));
  const remaining = gridCandidates(input.tune.space).filter((candidate) => !tried.has(candidateKey(candidate)));
  const [next, ...after] = remaining;
  return { next: next ? [next] : [], planned: after.map(candidateKey), pruned: [] };
}
