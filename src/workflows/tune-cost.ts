import type { Spec, TrialRecord, TuneBudget, TuneCandidate, TunePricing, TuneSpent } from '../shared/tune-types';

// What a trial costs and whether the budget can pay for the next one. Pure (it runs in the workflow).
//
// A trial is billed for the time its candidate app ran (deploy → teardown) × GPUs per replica × replicas, where the
// replicas are the candidate's `modal.maxContainers`: the most the workload can have scaled it to (an over- rather
// than an under-estimate). On Modal that time is the wall time measured. On the local twin it is the time the guide's
// hardware would have taken: the start-up (deploy and health wait) runs at `local.timeScale`, so its measured time is
// divided by it, and the rest (warm-up, the load, teardown) at the emulator's request time scale (1 in a trial, see
// tune-candidate-spec.ts), divided by that. So a tune on the twin spends the budget it would spend on Modal.

/**
 * One trial's time when no trial has finished yet and the caller passed no estimate: the guide's 6–10 minute cold
 * start on 8×B200 at its upper end plus about five minutes of warm-up and load.
 */
export const DEFAULT_TRIAL_ESTIMATE_SEC = 900;

/** How a trial's time splits: the engine's start-up and everything after it, as measured. */
export interface TrialTimes {
  startupMs: number;
  restMs: number;
}

/** The time scales a trial ran at: start-up and requests (both 1 on Modal and for a real engine). */
export interface TrialTimeScales {
  startup: number;
  requests: number;
}

/** Replicas a candidate may bill: its `modal.maxContainers`, at least one. */
export function billedReplicas(spec: Pick<Spec, 'modal'>): number {
  return Math.max(1, spec.modal.maxContainers);
}

/** GPUs a trial of `spec` (the candidate applied) holds: per replica × replicas. */
export function billedGpus(spec: Pick<Spec, 'modal' | 'gpu'>): number {
  return spec.gpu.count * billedReplicas(spec);
}

/** The guide-time seconds a trial stands for (see the top of the file). */
export function billedSeconds(times: TrialTimes, scales: TrialTimeScales): number {
  return times.startupMs / 1000 / scales.startup + times.restMs / 1000 / scales.requests;
}

/** GPU-hours and dollars of a trial. */
export function trialCost(
  spec: Pick<Spec, 'modal' | 'gpu'>,
  seconds: number,
  pricing: TunePricing,
): { gpuHours: number; dollars: number } {
  const gpuHours = (seconds * billedGpus(spec)) / 3600;
  return { gpuHours, dollars: gpuHours * pricing.dollarsPerGpuHour };
}

/** What the trials so far spent. */
export function spentOn(trials: readonly TrialRecord[]): TuneSpent {
  return {
    trials: trials.length,
    gpuHours: trials.reduce((sum, trial) => sum + trial.gpuHours, 0),
    dollars: trials.reduce((sum, trial) => sum + trial.dollars, 0),
  };
}

/**
 * The next trial's expected cost: the mean billed seconds per trial of those done (their GPU-hours over the GPUs
 * they held), else the caller's estimate, else {@link DEFAULT_TRIAL_ESTIMATE_SEC}; times the GPUs this candidate holds.
 */
export function estimateTrial(
  base: Spec,
  candidate: TuneCandidate,
  trials: readonly TrialRecord[],
  pricing: TunePricing,
  estimateSec: number = DEFAULT_TRIAL_ESTIMATE_SEC,
): { gpuHours: number; dollars: number; seconds: number } {
  const billed = trials.filter((trial) => trial.gpuHours > 0);
  const seconds =
    billed.length > 0
      ? billed.reduce((sum, trial) => sum + (trial.gpuHours * 3600) / gpusOf(base, trial.candidate), 0) / billed.length
      : estimateSec;
  return { ...trialCost(withModal(base, candidate), seconds, pricing), seconds };
}

/**
 * Why the budget cannot pay for the next trial, in one line ("budget: 12 trials"); undefined when it can. Trials
 * count first, then GPU-hours and dollars against what is spent plus the next trial's estimate.
 */
export function budgetStop(
  budget: TuneBudget,
  spent: TuneSpent,
  next: { gpuHours: number; dollars: number },
): string | undefined {
  if (spent.trials >= budget.trials) return `budget: ${budget.trials} trials`;
  if (budget.gpuHours !== undefined && spent.gpuHours + next.gpuHours > budget.gpuHours) {
    return `budget: ${budget.gpuHours} GPU-hours (spent ${spent.gpuHours.toFixed(2)}, the next trial needs ~${next.gpuHours.toFixed(2)})`;
  }
  if (budget.dollars !== undefined && spent.dollars + next.dollars > budget.dollars) {
    return `budget: $${budget.dollars} (spent $${spent.dollars.toFixed(2)}, the next trial needs ~$${next.dollars.toFixed(2)})`;
  }
  return undefined;
}

function gpusOf(base: Spec, candidate: TuneCandidate): number {
  return billedGpus(withModal(base, candidate));
}

function withModal(base: Spec, candidate: TuneCandidate): Pick<Spec, 'modal' | 'gpu'> {
  return { gpu: base.gpu, modal: { ...base.modal, ...candidate.modal } };
}
