import { proxyActivities, log, patched } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DiagnosisReport, RolloutInput, RolloutResult } from '../shared/rollout-types';
import { Compensations, type Compensation } from './compensations';
import { describeFailure, type Symptoms } from './failure-description';
import { platformStartMarginSec, specHealthCheck, waitUntilHealthy } from './health-wait';
import { notifyRolloutFailure, Notifier } from './notify-events';
import { PerformanceGate, type PerformanceRecorder } from './performance-gate';
import { restorePrevious } from './restore-previous';
import { compensation, compile, diagnosis, endpointCheck, longStorage, quickIo, remoteControl } from './retry-profiles';
import { RolloutState, type PhaseOutcome } from './rollout-state';
import { imageName, shortRevision, stepSummary } from './step-summary';
import { weightsPhaseDetail } from './weights-detail';

const act = proxyActivities<Activities>(quickIo);
const storage = proxyActivities<Activities>(longStorage);
const compiler = proxyActivities<Activities>(compile);
const control = proxyActivities<Activities>(remoteControl);
const undo = proxyActivities<Activities>(compensation);

type AppRef = { app: string; platform: 'local' | 'modal' };
type Spec = RolloutInput['spec'];

/**
 * Rollouts from before the platform kept verified versions neither read the last verified version (their way back
 * was the version routed when they deployed) nor mark their own once smoke passed.
 */
const LAST_VERIFIED = 'compensate-to-last-verified';

/**
 * The rollout saga, the guide's pipeline: validate → weights → volume commit → kernels → volume commit → deploy →
 * health → warmup → smoke. Any failure, abort or cancellation runs the compensations newest first, so the previous
 * version serves and is healthy again (or, on a first rollout, the app is stopped).
 */
export async function rollout(input: RolloutInput): Promise<RolloutResult> {
  const { spec, rolloutId } = input;
  const ref: AppRef = { app: spec.app, platform: spec.platform };
  const gate = new PerformanceGate(spec);
  const state = new RolloutState(input, gate.isOn);
  const compensations = new Compensations();
  const marginSec = platformStartMarginSec(spec.platform, spec.warmup.timeout);
  const notifier = new Notifier(spec.notify, {
    app: spec.app,
    rolloutId,
    requestedBy: input.requestedBy,
    workflowType: 'rollout',
  });
  let deployed: Deployed | undefined;
  let smoke: SmokeOutcome | undefined;

  notifier.fire('started', {
    summary: `${spec.app}: rollout of ${imageName(spec.sglang.image)} on ${spec.gpu.count}×${spec.gpu.type} started${input.requestedBy ? ` by ${input.requestedBy}` : ''}`,
  });
  try {
    await state.run(async () => {
      await state.phase('validate', () => validate(spec, state));
      const weights = await state.phase('weights', () => ensureWeights(spec));
      await state.phase('kernels', () => ensureKernels(spec, rolloutId, compensations));
      deployed = await state.phase('deploy', () =>
        deploy(weights.pinnedSpec, rolloutId, marginSec, compensations, state),
      );
      const version = deployed.version;
      await state.phase('health', () => waitForNewVersion(spec, version, marginSec, state));
      await state.phase('warmup', () => warmup(spec, version));
      smoke = await state.phase('smoke', () => smokeTestThenMarkVerified(spec, version, !gate.isOn));
      if (gate.isOn) {
        const replacing = deployed.previousVersion;
        await state.phase('performance', () => gate.run(version, replacing, askingAloud(state, notifier, spec)));
        await markVerified(spec, version);
      }
    });
  } catch (err) {
    const failure = await state.compensate(err, compensations, (evidence) =>
      // The spec's flags: a parser the spec sets is not blamed for a check the dead engine failed.
      diagnose(ref, spec.secrets.apiKey, { ...evidence, launchArgs: spec.sglang.args }),
    );
    await notifyRolloutFailure(notifier, failure);
    await notifier.settled();
    throw failure;
  }

  const result = state.succeeded({ endpoint: deployed!.endpoint, smoke: smoke!.results });
  await notifier.emit('promoted', {
    version: result.deployedVersion,
    ...(result.previousVersion !== undefined ? { previousVersion: result.previousVersion } : {}),
    servingVersion: result.deployedVersion,
    summary: result.summary,
  });
  await notifier.settled();
  return result;
}

/**
 * The performance gate's recorder, which also tells the webhooks when the gate asks a person (the rollout's human
 * gate: `waiting-for-approval`), without waiting for the delivery.
 */
function askingAloud(state: RolloutState, notifier: Notifier, spec: Spec): PerformanceRecorder {
  return {
    recordPerformance(update) {
      state.recordPerformance(update);
      const question = update.performanceQuestion;
      if (!question) return;
      notifier.fire('waiting-for-approval', {
        version: question.version,
        summary: `${spec.app}: the performance gate of v${question.version} is inconclusive and waits for a decision`,
        question: {
          reasons: question.reasons,
          deadline: question.deadline,
          defaultDecision: question.defaultDecision,
          howToAnswer: question.howToAnswer,
        },
      });
    },
  };
}

/** Schema and the guide's lint rules; the warnings and the guide's per-step expectations go into the status. */
async function validate(spec: Spec, state: RolloutState): Promise<PhaseOutcome> {
  const validation = await act.validateSpec.executeWithOptions(
    { summary: stepSummary('Spec check: schema and the guide’s lint rules') },
    [{ spec }],
  );
  state.recordValidation(validation);
  return { detail: validation.warnings.length > 0 ? `${validation.warnings.length} warning(s)` : 'clean' };
}

/**
 * Download with sentinel (skipped when the sentinel is valid), then commit the weights volume. Returns the spec pinned
 * to the exact commit the sentinel vouches for, so a version (and a rollback to it) never follows a branch.
 */
async function ensureWeights(spec: Spec): Promise<PhaseOutcome & { pinnedSpec: Spec }> {
  const weights = await storage.ensureWeights.executeWithOptions(
    { summary: stepSummary(`Weights ${spec.model.repo}@${shortRevision(spec.model.revision)}`) },
    [{ spec }],
  );
  await control.commitVolume.executeWithOptions({ summary: stepSummary(`Commit volume ${spec.volumes.weights}`) }, [
    { spec, volume: 'weights' },
  ]);
  const commit = weights.status.commit;
  return {
    pinnedSpec: commit ? { ...spec, model: { ...spec.model, revision: commit } } : spec,
    isSkipped: weights.skipped,
    detail: weightsPhaseDetail(weights),
  };
}

/**
 * DeepGEMM compile (skipped when the GPU-keyed marker is valid), then commit the kernels volume. A compile that did
 * not finish may leave a partial cache: its removal is registered before the compile and withdrawn once it finished,
 * and it removes only what this run wrote, never an older cache.
 */
async function ensureKernels(spec: Spec, rolloutId: string, compensations: Compensations): Promise<PhaseOutcome> {
  const removePartial = compensations.add({
    step: 'remove the partial DeepGEMM cache of this run',
    run: async () => {
      await undo.invalidateKernels.executeWithOptions(
        { summary: stepSummary('Remove this run’s partial DeepGEMM cache') },
        [{ spec, onlyIfRolloutId: rolloutId }],
      );
    },
  });
  const kernels = await compiler.compileKernels.executeWithOptions(
    { summary: stepSummary(`DeepGEMM compile for ${spec.gpu.type}`) },
    [{ spec, rolloutId }],
  );
  compensations.remove(removePartial);
  await control.commitVolume.executeWithOptions({ summary: stepSummary(`Commit volume ${spec.volumes.kernels}`) }, [
    { spec, volume: 'kernels' },
  ]);
  return {
    isSkipped: kernels.skipped,
    detail: kernels.skipped
      ? 'marker valid, compile skipped; volume committed'
      : 'compiled; marker written; volume committed',
  };
}

/** What the deploy step leaves for the steps after it. */
interface Deployed extends PhaseOutcome {
  endpoint: string;
  /** The new version: the health wait, warmup and smoke probe it by number, not whichever version still serves. */
  version: number;
  /** The version serving before (the performance gate's baseline), when there was one. */
  previousVersion?: number;
}

/**
 * Remembers the version serving now and the way back: the last version the platform recorded as verified (not
 * merely the one routed now, which a terminated rollout may have left unverified), else the one serving; or, when
 * nothing serves, stopping the app. Then deploys a new version. The compensation comes first: a deploy that timed
 * out may still have switched traffic.
 */
async function deploy(
  spec: Spec,
  rolloutId: string,
  marginSec: number,
  compensations: Compensations,
  state: RolloutState,
): Promise<Deployed> {
  const ref: AppRef = { app: spec.app, platform: spec.platform };
  const previous = await act.currentDeployment.executeWithOptions(
    { summary: stepSummary('Read the version serving now') },
    [ref],
  );
  state.recordPrevious(previous?.version);
  const target = previous ? ((await lastVerified(ref)) ?? previous) : null;
  compensations.add(target ? restoreStep(ref, target.version, marginSec, state) : stopStep(ref, state));
  state.recordDeployStarted();
  const deployment = await control.deploy.executeWithOptions(
    { summary: stepSummary(`Deploy ${imageName(spec.sglang.image)} on ${spec.gpu.count}×${spec.gpu.type}`) },
    [{ spec, rolloutId }],
  );
  state.recordDeployed(deployment.version);
  const wayBack = target && target.version !== previous?.version ? `, way back v${target.version}: last verified` : '';
  return {
    endpoint: deployment.endpoint,
    version: deployment.version,
    previousVersion: previous?.version,
    detail: `v${deployment.version}${previous ? ` (previous v${previous.version}${wayBack})` : ' (first version)'}`,
  };
}

/** The last version the platform recorded as verified; undefined when none was (or in a rollout from before it). */
async function lastVerified(ref: AppRef): Promise<{ version: number } | undefined> {
  if (!patched(LAST_VERIFIED)) return undefined;
  const verified = await act.lastVerifiedDeployment.executeWithOptions(
    { summary: stepSummary('Read the last verified version (the way back)') },
    [ref],
  );
  return verified ?? undefined;
}

/** The way back; the version it restored (and verified healthy) is what serves once the rollout ended. */
function restoreStep(ref: AppRef, version: number, marginSec: number, state: RolloutState): Compensation {
  return {
    step: `roll back to v${version} and verify it is healthy`,
    run: async () => {
      state.recordServingAfter(await restorePrevious(ref, version, { marginSec }));
    },
  };
}

/** A first rollout's way back: once the app is stopped, nothing serves. */
function stopStep(ref: AppRef, state: RolloutState): Compensation {
  return {
    step: 'stop the app (there was no previous version)',
    run: async () => {
      await undo.stopApp.executeWithOptions({ summary: stepSummary(`Stop ${ref.app}`) }, [ref]);
      state.recordServingAfter(null);
    },
  };
}

/** Polls /health of the new version until 200, within the spec's startup timeout (plus the platform's margin). */
async function waitForNewVersion(
  spec: Spec,
  version: number,
  marginSec: number,
  state: RolloutState,
): Promise<PhaseOutcome> {
  const passed = await waitUntilHealthy({ app: spec.app, platform: spec.platform }, specHealthCheck(spec, version), {
    summary: stepSummary(`Health wait for v${version} (timeout ${spec.health.startupTimeout} s)`),
    marginSec,
  });
  state.recordHealthAttempt(passed.attempt);
  return { detail: `passed on attempt ${passed.attempt}` };
}

/** The guide's four diverse warmup completions, within the spec's warmup timeout. */
async function warmup(spec: Spec, version: number): Promise<PhaseOutcome> {
  const results = await proxyActivities<Activities>(endpointCheck(spec.warmup.timeout)).warmup.executeWithOptions(
    { summary: stepSummary(`Warmup of v${version}: chat, no-thinking, long context, tools`) },
    [{ ...endpointOf(spec), version, timeoutSec: spec.warmup.timeout }],
  );
  return { detail: results.map((r) => `${r.name} ${Math.round(r.durationMs)} ms`).join(', ') };
}

type SmokeOutcome = PhaseOutcome & { results: Awaited<ReturnType<Activities['smokeTest']>> };

/** The smoke tests: health, inference, models, tools, reasoning, metrics, auth. */
async function smokeTest(spec: Spec, version: number): Promise<SmokeOutcome> {
  const results = await proxyActivities<Activities>(endpointCheck(spec.warmup.timeout)).smokeTest.executeWithOptions(
    { summary: stepSummary(`Smoke tests of v${version}`) },
    [{ ...endpointOf(spec), version, timeoutSec: Math.min(spec.warmup.timeout, 120) }],
  );
  return { results, detail: `${results.length}/${results.length} passed` };
}

/**
 * The smoke tests, then (unless a performance gate follows, which marks it once passed) the platform records the
 * version as verified: it is the way back of the next rollout.
 */
async function smokeTestThenMarkVerified(spec: Spec, version: number, isLastGate: boolean): Promise<SmokeOutcome> {
  const outcome = await smokeTest(spec, version);
  if (isLastGate) await markVerified(spec, version);
  return outcome;
}

async function markVerified(spec: Spec, version: number): Promise<void> {
  if (!patched(LAST_VERIFIED)) return;
  await act.markVerified.executeWithOptions({ summary: stepSummary(`Mark v${version} verified (the next way back)`) }, [
    { app: spec.app, platform: spec.platform, version },
  ]);
}

function endpointOf(spec: Spec) {
  return { app: spec.app, platform: spec.platform, secretName: spec.secrets.apiKey, servedName: spec.model.servedName };
}

/**
 * Matches the failed version's engine logs (since its deploy began) and the failed step's symptoms against the
 * guide's triage tables. A diagnosis that cannot be had is logged, never a second failure.
 */
async function diagnose(
  ref: AppRef,
  secretName: string,
  evidence: Symptoms & { since: string; failedPhase: string; launchArgs: Spec['sglang']['args'] },
): Promise<DiagnosisReport[]> {
  try {
    return await proxyActivities<Activities>(diagnosis).diagnoseApp.executeWithOptions(
      { summary: stepSummary('Diagnosis from the engine logs (guide §12, §17, §18)') },
      [{ ...ref, secretName, ...evidence }],
    );
  } catch (err) {
    log.warn('diagnosis unavailable', { detail: describeFailure(err).message });
    return [];
  }
}
