import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { Spec, TrialInput, TrialRecord, TuneCandidate, TuneInput, TuneResult } from '../shared/tune-types';
import { describeFailure } from './failure-description';
import { compile, compensation, longStorage, remoteControl } from './retry-profiles';
import { shortRevision, stepSummary } from './step-summary';
import { billedSeconds, budgetStop, estimateTrial, spentOn, trialCost } from './tune-cost';
import { candidateSpec } from './tune-candidate-spec';
import { TuneProgress } from './tune-progress';
import { planNextTrials } from './tune-search';
import { candidateKey } from './tune-space';
import { trialTimeScales, tuneTrial } from './tune-trial';
import { weightsPhaseDetail } from './weights-detail';

const storage = proxyActivities<Activities>(longStorage);
const compiler = proxyActivities<Activities>(compile);
const control = proxyActivities<Activities>(remoteControl);
const undo = proxyActivities<Activities>(compensation);

/** Trials in a row that broke (not a statement about their candidates) before the tune stops: the platform is down. */
const FAILED_TRIALS_IN_A_ROW = 2;

/**
 * The tune: prepare the shared volumes once (weights, kernels), then ask the search for the next candidate, check the
 * budget can pay for it, run it as a child workflow (`<tuneId>/trial-<n>`, its own throw-away app), record it, and
 * again — until the search has nothing left, the budget is spent, or `abortTune` stops it. Durable: a worker or server
 * killed mid-tune resumes where it was (a finished trial is in the history, a running child workflow carries on), so
 * no trial is repeated; the running trial's teardown runs on abort or cancellation. Never deploys the serving app.
 */
export async function tune(input: TuneInput): Promise<TuneResult> {
  const progress = new TuneProgress(input);
  try {
    return await progress.run(async () => {
      const base = await prepareVolumes(input.spec, input.tuneId, progress);
      return searchUntilDone(base, input, progress);
    });
  } catch (err) {
    if (isCancellation(err))
      return progress.end('aborted', progress.abortReason ?? 'cancelled: the workflow was cancelled');
    const cause = describeFailure(err);
    const result = progress.end('failed', cause.message);
    throw ApplicationFailure.create({
      type: cause.type,
      nonRetryable: true,
      message: `tune of ${input.spec.app} failed: ${cause.message}`,
      details: [{ status: result }],
    });
  }
}

/**
 * Weights and DeepGEMM kernels, once for every trial (they share the base spec's volumes): each step is skipped when
 * its sentinel or marker is valid, so a tune after a rollout re-downloads and recompiles nothing. Returns the spec
 * pinned to the commit the weights sentinel vouches for, so every trial loads the same bytes.
 */
async function prepareVolumes(spec: Spec, tuneId: string, progress: TuneProgress): Promise<Spec> {
  const pinned = await progress.prep('weights', async () => {
    const weights = await storage.ensureWeights.executeWithOptions(
      { summary: stepSummary(`Weights ${spec.model.repo}@${shortRevision(spec.model.revision)}, shared by trials`) },
      [{ spec }],
    );
    await control.commitVolume.executeWithOptions({ summary: stepSummary(`Commit volume ${spec.volumes.weights}`) }, [
      { spec, volume: 'weights' },
    ]);
    const commit = weights.status.commit;
    return {
      spec: commit ? { ...spec, model: { ...spec.model, revision: commit } } : spec,
      detail: weightsPhaseDetail(weights),
    };
  });
  await progress.prep('kernels', async () => {
    let kernels;
    try {
      kernels = await compiler.compileKernels.executeWithOptions(
        { summary: stepSummary(`DeepGEMM compile for ${spec.gpu.type}, shared by trials`) },
        [{ spec, rolloutId: tuneId }],
      );
    } catch (err) {
      // A compile that did not finish may leave a partial cache: remove what this tune wrote, never an older cache.
      await CancellationScope.nonCancellable(() =>
        undo.invalidateKernels.executeWithOptions(
          { summary: stepSummary('Remove this tune’s partial DeepGEMM cache') },
          [{ spec, onlyIfRolloutId: tuneId }],
        ),
      ).catch(() => undefined);
      throw err;
    }
    await control.commitVolume.executeWithOptions({ summary: stepSummary(`Commit volume ${spec.volumes.kernels}`) }, [
      { spec, volume: 'kernels' },
    ]);
    return { detail: kernels.skipped ? 'marker valid, compile skipped' : 'compiled; marker written' };
  });
  return pinned.spec;
}

/** The search loop: one trial at a time, each only when the budget can pay for it. */
async function searchUntilDone(base: Spec, input: TuneInput, progress: TuneProgress): Promise<TuneResult> {
  let failedInARow = 0;
  for (;;) {
    const step = planNextTrials({ spec: base, tune: input.tune, trials: progress.trials });
    const tried = new Set(progress.trials.map((trial) => trial.key));
    // A candidate already tried is never run again, whatever the search says.
    const next = step.next.filter((candidate) => !tried.has(candidateKey(candidate)));
    progress.recordPlan(step, next.map(candidateKey));
    if (next.length === 0) return progress.end('finished', 'every remaining point pruned or tried');
    for (const candidate of next) {
      const estimate = estimateTrial(base, candidate, progress.trials, input.pricing, input.trialEstimateSec);
      const stop = budgetStop(input.tune.budget, spentOn(progress.trials), estimate);
      if (stop) return progress.end('budget-exhausted', stop);
      const record = await runTrial(base, candidate, input, progress);
      failedInARow = record.outcome === 'failed' ? failedInARow + 1 : 0;
      if (failedInARow >= FAILED_TRIALS_IN_A_ROW) {
        return progress.end('failed', `${failedInARow} trials in a row broke: ${record.reason ?? 'see the trials'}`);
      }
    }
  }
}

/**
 * Runs one candidate as the child workflow `<tuneId>/trial-<n>` and records what it returned. An abort cancels the
 * child (it tears its app down before it ends); the trial is then recorded as failed ("aborted …") and the
 * cancellation goes on up. A parent closed any other way (terminated, timed out) asks the child to cancel too, so
 * its teardown still runs.
 */
async function runTrial(
  base: Spec,
  candidate: TuneCandidate,
  input: TuneInput,
  progress: TuneProgress,
): Promise<TrialRecord> {
  const index = progress.trials.length + 1;
  const spec = candidateSpec(base, candidate, index, input.tune.workload ?? base.slo.load);
  const key = candidateKey(candidate);
  const trialId = `${input.tuneId}/trial-${index}`;
  const trialInput: TrialInput = {
    spec,
    index,
    key,
    candidate,
    workload: spec.slo.load,
    objective: input.tune.objective,
    pricing: input.pricing,
    rolloutId: trialId,
  };
  const startedAtMs = Date.now();
  progress.startTrial({ index, key, app: spec.app, startedAt: new Date(startedAtMs).toISOString() });
  try {
    const record = await executeChild(tuneTrial, {
      workflowId: trialId,
      args: [trialInput],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: stepSummary(`Trial ${index} as ${spec.app}: ${key}`),
    });
    progress.recordTrial(record);
    return record;
  } catch (err) {
    const cancelled = isCancellation(err);
    const cause = describeFailure(err instanceof ChildWorkflowFailure ? err.cause : err);
    const isTornDown = cause.type !== ErrorType.CompensationFailed;
    // Billed as if all of its time were start-up (on the twin the dearer reading): what it ran is not known here.
    const elapsedMs = Date.now() - startedAtMs;
    const seconds = billedSeconds({ startupMs: elapsedMs, restMs: 0 }, trialTimeScales(spec));
    const record: TrialRecord = {
      index,
      key,
      candidate,
      app: spec.app,
      outcome: 'failed',
      reason: cancelled ? (progress.abortReason ?? 'cancelled') : `the trial broke: ${cause.message}`,
      figures: null,
      load: null,
      meetsSlo: false,
      sloMisses: [],
      objectiveValue: null,
      ...trialCost(spec, seconds, input.pricing),
      startedAt: new Date(startedAtMs).toISOString(),
      durationMs: elapsedMs,
      isTornDown,
    };
    progress.recordTrial(record);
    if (cancelled) throw err;
    return record;
  }
}
