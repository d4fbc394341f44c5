import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { RolloutStatus } from '../shared/rollout-types';
import type { UpgradeDiagnosis, UpgradeInput, UpgradeRequest, UpgradeResult } from '../shared/upgrade-types';
import {
  APP,
  DEPLOYED_VERSION,
  imageAndGpuAttributes,
  initialRolloutSearchAttributes,
  PHASE,
} from '../shared/search-attributes';
import { rolloutWorkflowId } from '../shared/workflow-ids';
import { waitUntilHealthy } from './health-wait';
import { Notifier } from './notify-events';
import { compile, quickIo, remoteControl } from './retry-profiles';
import { rollout } from './rollout';

/** Rolled-back upgrades from before it left the attempted image and GPU in the list beside the serving version. */
const SERVING_IMAGE_AFTER_ROLLBACK = 'serving-image-after-rollback';

const act = proxyActivities<Activities>(quickIo);
const compiler = proxyActivities<Activities>(compile);
const control = proxyActivities<Activities>(remoteControl);

/**
 * Upgrades an app (guide §20): plan against the deployed spec (image bump, GPU change, mem-fraction tightening); on a
 * GPU change invalidate the new GPU's DeepGEMM cache when stale and recompile; then run the rollout as a child
 * (`rollout/<app>`, so one rollout per app still holds). A failed child has already restored the previous version;
 * the upgrade verifies it is serving and healthy and returns `rolled-back` with the child's diagnosis.
 */
async function upgradeSteps(input: UpgradeInput): Promise<UpgradeResult> {
  const ref = { app: input.app, platform: input.platform };
  const childWorkflowId = rolloutWorkflowId(input.app);
  upsertSearchAttributes([
    { key: APP, value: input.app },
    { key: PHASE, value: 'plan' },
  ]);

  const plan = await act.planUpgrade.executeWithOptions(
    { summary: `Plan: read the deployed spec, derive ${describeRequest(input.request)}, lint` },
    [{ ...ref, request: input.request }],
  );
  upsertSearchAttributes(imageAndGpuAttributes({ sglangImage: plan.spec.sglang.image, gpuType: plan.spec.gpu.type }));
  setCurrentDetails(
    `v${plan.fromVersion} → ${plan.changes.map((c) => `${c.path}: ${String(c.from)} → ${String(c.to)}`).join('; ')}`,
  );
  const base = {
    app: input.app,
    upgradeId: input.upgradeId,
    fromVersion: plan.fromVersion,
    changes: plan.changes,
    rolloutWorkflowId: childWorkflowId,
    warnings: plan.warnings,
  };

  // The child rollout tells the spec's webhooks its own events; the upgrade only those no rollout saw.
  const notifier = new Notifier(plan.spec.notify, {
    app: input.app,
    rolloutId: input.upgradeId,
    requestedBy: input.requestedBy,
    workflowType: 'upgrade',
  });
  let isKernelRecompiled = false;
  let kernelCacheBefore: UpgradeResult['kernelCacheBefore'];
  try {
    if (plan.spec.gpu.type !== plan.fromSpec.gpu.type) {
      setPhase('kernels');
      const cache = await act.kernelCacheStatus.executeWithOptions(
        { summary: `DeepGEMM cache for ${plan.spec.gpu.type}: valid, missing or stale?` },
        [{ spec: plan.spec }],
      );
      kernelCacheBefore = cache.state;
      if (cache.state === 'stale') {
        await act.invalidateKernels.executeWithOptions(
          { summary: `Remove the stale .compiled marker and cache for ${plan.spec.gpu.type} (guide §20 step 2)` },
          [{ spec: plan.spec, gpuType: plan.spec.gpu.type }],
        );
      }
      if (cache.state !== 'valid') {
        await compiler.compileKernels.executeWithOptions(
          { summary: `compile_deepgemm on ${plan.spec.gpu.type} (guide §20 step 2)` },
          [{ spec: plan.spec, rolloutId: input.upgradeId }],
        );
        await control.commitVolume.executeWithOptions({ summary: `Commit volume ${plan.spec.volumes.kernels}` }, [
          { spec: plan.spec, volume: 'kernels' },
        ]);
        isKernelRecompiled = true;
      }
    }

    setPhase('rollout');
    const result = await startRolloutChild(plan.spec, input, childWorkflowId);
    setPhase('done');
    upsertSearchAttributes([{ key: DEPLOYED_VERSION, value: result.deployedVersion }]);
    log.info('upgrade succeeded', { app: input.app, from: plan.fromVersion, to: result.deployedVersion });
    return {
      ...base,
      outcome: 'upgraded',
      servingVersion: result.deployedVersion,
      toVersion: result.deployedVersion,
      isKernelRecompiled,
      kernelCacheBefore,
    };
  } catch (err) {
    const diagnosis = diagnosisOf(err);
    if (!diagnosis) throw err;
    if (!(err instanceof ChildWorkflowFailure)) {
      // The upgrade's own step failed (its recompile) before any rollout ran: v{from} was never touched.
      await notifier.emit('failed', {
        previousVersion: plan.fromVersion,
        servingVersion: plan.fromVersion,
        summary: `${input.app}: upgrade failed in ${diagnosis.failedPhase ?? 'its own step'} before the rollout; v${plan.fromVersion} still serves`,
        cause: { type: diagnosis.cause, message: diagnosis.message.split('\n')[0]! },
      });
    }
    setPhase('verify-previous');
    log.warn('upgrade failed; verifying the previous version', { app: input.app, cause: diagnosis.cause });
    const serving = await verifyPreviousServing(ref, plan.fromVersion, plan.fromSpec, diagnosis).catch(
      async (verifyErr: unknown) => {
        // A failed compensation of the child was already told by the child; a version changed under us was not.
        if (!diagnosis.compensations.some((c) => c.outcome === 'failed')) {
          await notifier.emit('compensation-failed', {
            previousVersion: plan.fromVersion,
            summary: `${input.app}: the upgrade failed (${diagnosis.cause}) and v${plan.fromVersion} is not serving again`,
            leftToDoByHand: [`roll back by hand: glm-ops rollback ${input.app} --to v${plan.fromVersion}`],
          });
        }
        throw verifyErr;
      },
    );
    const servingVersion = serving.version;
    setPhase('rolled-back');
    upsertSearchAttributes([{ key: DEPLOYED_VERSION, value: servingVersion }]);
    if (patched(SERVING_IMAGE_AFTER_ROLLBACK)) {
      // The list shows what serves: the planned image and GPU (set above) were only attempted.
      upsertSearchAttributes(imageAndGpuAttributes(serving));
    }
    const attempted = {
      ...(diagnosis.attemptedVersion !== undefined ? { version: diagnosis.attemptedVersion } : {}),
      sglangImage: plan.spec.sglang.image,
      gpuType: plan.spec.gpu.type,
    };
    setCurrentDetails(
      `rolled back: v${servingVersion} (${serving.sglangImage} on ${serving.gpuType}) serving and healthy; attempted ${attempted.version ? `v${attempted.version} ` : ''}(${attempted.sglangImage} on ${attempted.gpuType}) failed: ${diagnosis.cause}: ${diagnosis.message.split('\n')[0]}`,
    );
    return {
      ...base,
      outcome: 'rolled-back',
      servingVersion,
      attempted,
      isKernelRecompiled,
      kernelCacheBefore,
      diagnosis,
    };
  }
}

function setPhase(phase: string): void {
  upsertSearchAttributes([{ key: PHASE, value: phase }]);
}

/** Runs the rollout as a child; a rollout of the app that is already running refuses the upgrade. */
async function startRolloutChild(spec: Parameters<typeof rollout>[0]['spec'], input: UpgradeInput, workflowId: string) {
  try {
    return await executeChild(rollout, {
      workflowId,
      args: [{ spec, rolloutId: input.upgradeId, requestedBy: input.requestedBy ?? `upgrade ${input.upgradeId}` }],
      staticSummary: `Rollout of ${spec.app} for upgrade ${input.upgradeId}: ${spec.sglang.image} on ${spec.gpu.count}×${spec.gpu.type}`,
      typedSearchAttributes: initialRolloutSearchAttributes(spec),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw ApplicationFailure.create({
        type: ErrorType.RolloutInProgress,
        nonRetryable: true,
        message: `a rollout of ${spec.app} is already running (workflow ${workflowId}): let it finish or abort it, then upgrade again`,
      });
    }
    throw err;
  }
}

/** The failure of the child rollout or of the upgrade's own recompile; undefined for anything else (rethrown). */
function diagnosisOf(err: unknown): UpgradeDiagnosis | undefined {
  if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) {
    const details = (err.cause.details?.[0] ?? {}) as { cause?: string; status?: RolloutStatus };
    const failedPhase = details.status?.phases.find((p) => p.state === 'failed')?.name;
    const attemptedVersion = details.status?.deployedVersion;
    return {
      cause: details.cause ?? err.cause.type ?? ErrorType.DeployFailed,
      message: err.cause.message,
      ...(failedPhase ? { failedPhase } : {}),
      ...(attemptedVersion !== undefined ? { attemptedVersion } : {}),
      diagnoses: details.status?.diagnoses ?? [],
      compensations: details.status?.compensations ?? [],
    };
  }
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === ErrorType.CompileFailed
  ) {
    return {
      cause: ErrorType.CompileFailed,
      message: err.cause.message,
      failedPhase: 'kernels',
      diagnoses: [],
      compensations: [],
    };
  }
  return undefined;
}

/**
 * Checks that the version from before the upgrade serves again and answers /health. The child rollout already ran
 * `restorePrevious` as its compensation; the upgrade does not roll back a second time: a failed compensation, or a
 * different version serving (someone moved traffic meanwhile), fails the upgrade with CompensationFailed, since a
 * person has to look.
 */
async function verifyPreviousServing(
  ref: { app: string; platform: 'local' | 'modal' },
  fromVersion: number,
  fromSpec: { sglang: { image: string }; gpu: { type: string } },
  diagnosis: UpgradeDiagnosis,
): Promise<{ version: number; sglangImage: string; gpuType: string }> {
  const current = await act.currentDeployment.executeWithOptions(
    { summary: 'Which version serves after the failure?' },
    [ref],
  );
  const isPrevious =
    current !== null &&
    (current.version === fromVersion ||
      (current.sglangImage === fromSpec.sglang.image && current.gpuType === fromSpec.gpu.type));
  if (!current || !isPrevious) {
    throw ApplicationFailure.create({
      type: ErrorType.CompensationFailed,
      nonRetryable: true,
      message: `the upgrade of ${ref.app} failed (${diagnosis.cause}) and v${fromVersion} is not serving (now: ${current ? `v${current.version}` : 'nothing'}): roll back by hand with \`glm-ops rollback ${ref.app} --to v${fromVersion}\``,
      details: [{ diagnosis }],
    });
  }
  await waitUntilHealthy(ref, current, { summary: `Verify v${current.version} is serving and healthy` });
  return current;
}

function describeRequest(request: UpgradeRequest): string {
  return (
    [request.sglangImage && `image ${request.sglangImage}`, request.gpuType && `GPU ${request.gpuType}`]
      .filter(Boolean)
      .join(' + ') || 'no change'
  );
}

/**
 * Upgrades from before it completed when they rolled back, a green success in the workflow list. Once no such run is
 * open anywhere: `deprecatePatch` this id, then delete the branch.
 */
const ROLLED_BACK_FAILS = 'upgrade-rolled-back-fails';

/**
 * Upgrades an app (guide §20): plan against the deployed spec (image bump, GPU change, mem-fraction tightening); on a
 * GPU change invalidate the new GPU's DeepGEMM cache when stale and recompile; then run the rollout as a child
 * (`rollout/<app>`, so one rollout per app still holds). A failed child has already restored the previous version;
 * the upgrade verifies it is serving and healthy, and then fails with UpgradeRolledBack, whose message leads with the
 * outcome and whose details carry the result (`rolled-back`, with the child's diagnosis): the workflow list shows a
 * rolled-back upgrade as failed, never as a completed one.
 */
export async function upgrade(input: UpgradeInput): Promise<UpgradeResult> {
  const result = await upgradeSteps(input);
  if (result.outcome !== 'rolled-back' || !patched(ROLLED_BACK_FAILS)) return result;
  const cause = result.diagnosis
    ? ` (${result.diagnosis.cause}${result.diagnosis.failedPhase ? ` in ${result.diagnosis.failedPhase}` : ''})`
    : '';
  throw ApplicationFailure.create({
    type: ErrorType.UpgradeRolledBack,
    nonRetryable: true,
    message: `upgrade of ${result.app} rolled back${cause}: v${result.servingVersion} is serving and healthy again`,
    details: [result],
  });
}
