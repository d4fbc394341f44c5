import type { TrialRecord } from '../shared/tune-types';

// The trade-off a tune shows: more throughput costs TTFT. A trial is on the front when no other measured trial is at
// least as fast and at least as responsive, and strictly better in one of the two.

/** A trial that measured figures: the ones a plot or a front can place. */
export type MeasuredTrial = TrialRecord & { figures: NonNullable<TrialRecord['figures']> };

/** The trials that ran their load and recorded figures, in trial order. */
export function measuredTrials(trials: readonly TrialRecord[]): MeasuredTrial[] {
  return trials.filter((trial): trial is MeasuredTrial => trial.outcome === 'measured' && trial.figures !== null);
}

/**
 * The Pareto front of the measured trials: maximise output tok/s, minimise TTFT p95. Trials with the same two
 * figures are all kept (neither dominates the other). Ordered by TTFT p95, then by throughput, then by trial index.
 */
export function paretoFront(trials: readonly TrialRecord[]): MeasuredTrial[] {
  const measured = measuredTrials(trials);
  const front = measured.filter((trial) => !measured.some((other) => dominates(other, trial)));
  return front.sort(
    (a, b) =>
      a.figures.ttftP95Ms - b.figures.ttftP95Ms ||
      b.figures.outputTokensPerSec - a.figures.outputTokensPerSec ||
      a.index - b.index,
  );
}

/** Whether `a` is at least as good as `b` on both figures and strictly better on one. */
export function dominates(a: MeasuredTrial, b: MeasuredTrial): boolean {
  const isFasterOrEqual = a.figures.outputTokensPerSec >= b.figures.outputTokensPerSec;
  const isQuickerOrEqual = a.figures.ttftP95Ms <= b.figures.ttftP95Ms;
  const isStrictlyBetter =
    a.figures.outputTokensPerSec > b.figures.outputTokensPerSec || a.figures.ttftP95Ms < b.figures.ttftP95Ms;
  return isFasterOrEqual && isQuickerOrEqual && isStrictlyBetter;
}
