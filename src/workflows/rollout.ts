import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../shared/errors';
import type {
  CompensationReport,
  DiagnosisReport,
  PhaseReport,
  RolloutInput,
  RolloutPhase,
  RolloutPhaseName,
  RolloutResult,
  RolloutStatus,
  SmokeResult,
} from '../shared/rollout-types';
import { ROLLOUT_PHASES } from '../shared/rollout-types';
import { APP, DEPLOYED_VERSION, GPU_TYPE, PHASE, SGLANG_IMAGE } from '../shared/search-attributes';
import { abort, abortSignal, status } from './rollout-messages';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};

/** Control-plane calls: quick, retried with backoff on transport errors. */
const quickIo = {
  startToCloseTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 6 },
} satisfies ActivityOptions;

/**
 * Downloads and compiles: long, heartbeating, resumable; a retry continues where the last attempt stopped (on Modal
 * it re-attaches to the remote call named in the heartbeat details). A short heartbeat timeout: a dead worker is
 * noticed in seconds, not after the 12-hour limit.
 */
const longStorage = {
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  retry: { ...retry, maximumAttempts: 8 },
  // An abort waits until the activity has seen it: only a cancellation it sees as requested stops the remote call
  // (a compile holds 8 GPUs), and a workflow that closed first would leave the activity a "not found" instead.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
} satisfies ActivityOptions;

/**
 * Deploys and volume commits: a first Modal deploy builds images and creates functions for many minutes, and a commit
 * is a remote call; both heartbeat, and a retry waits for a deploy still in flight instead of starting a second.
 */
const remoteControl = {
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: 4 },
  // An abort stops a deploy in flight before the compensation rolls back, rather than racing it.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
} satisfies ActivityOptions;

/** On Modal the first /health also waits for the image pull and the enter hook's health + warmup (seconds). */
const MODAL_IMAGE_PULL_MARGIN_SEC = 15 * 60;

/** What the platform adds to the engine's start-up before /health can pass (Modal: image pull, enter hook). */
function platformStartMarginSec(platform: 'local' | 'modal', warmupTimeoutSec: number): number {
  return platform === 'modal' ? Math.ceil(warmupTimeoutSec) + MODAL_IMAGE_PULL_MARGIN_SEC : 0;
}

/** The health wait's options depend on the spec's startup timeout; it resumes from heartbeat details on retry. */
function healthWaitOptions(startupTimeoutSec: number, marginSec = 0): ActivityOptions {
  return {
    startToCloseTimeout: `${Math.ceil(startupTimeoutSec) + marginSec + 120} seconds`,
    heartbeatTimeout: '10 seconds',
    retry: {
      ...retry,
      maximumAttempts: 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ErrorType.HealthTimeout, ErrorType.EngineCrashed],
    },
  };
}

/** Probes of the endpoint (warmup, smoke): bounded by the spec's warmup timeout; warmup may be retried once. */
function endpointCheckOptions(timeoutSec: number): ActivityOptions {
  return {
    startToCloseTimeout: `${Math.ceil(timeoutSec) + 60} seconds`,
    retry: { ...retry, maximumAttempts: 2 },
  };
}

/** A compensation registered after (or, where a step may half-succeed, before) its step. */
interface Compensation {
  step: string;
  run: () => Promise<void>;
}

const END_PHASES: RolloutPhase[] = ['done', 'failed', 'aborted'];

/**
 * The rollout saga: validate → weights → kernels → deploy → health → warmup → smoke, compensating in reverse on any
 * failure, abort or cancellation, so that the previous version is serving and healthy again (or the app is stopped).
 */
export async function rollout(input: RolloutInput): Promise<RolloutResult> {
  const { spec, rolloutId } = input;
  const ref = { app: spec.app, platform: spec.platform };
  const startedAtMs = Date.now();
  const state: RolloutStatus = {
    app: spec.app,
    rolloutId,
    phase: 'validate',
    healthAttempt: 0,
    startedAt: new Date(startedAtMs).toISOString(),
    elapsedMs: 0,
    phases: ROLLOUT_PHASES.map((name) => ({ name, state: 'pending' })),
    compensations: [],
    diagnoses: [],
    warnings: [],
  };
  const compensations: Compensation[] = [];
  const work = new CancellationScope();

  setHandler(status, () => ({ ...state, elapsedMs: Date.now() - startedAtMs }));
  const requestAbort = (reason: string): void => {
    if (state.abortRequested || END_PHASES.includes(state.phase)) return;
    state.abortRequested = reason;
    log.warn('abort requested', { reason, phase: state.phase });
    work.cancel();
  };
  setHandler(
    abort,
    ({ reason }) => {
      const acceptedInPhase = state.phase;
      requestAbort(reason);
      return { acceptedInPhase };
    },
    {
      validator: ({ reason }) => {
        if (END_PHASES.includes(state.phase) || state.phase === 'compensating') {
          throw new Error(`the rollout is already ${state.phase}`);
        }
        if (!reason?.trim()) throw new Error('reason: give a reason for the abort');
      },
    },
  );
  setHandler(abortSignal, ({ reason }) => requestAbort(reason));

  upsertSearchAttributes([
    { key: APP, value: spec.app },
    { key: GPU_TYPE, value: spec.gpu.type },
    { key: SGLANG_IMAGE, value: spec.sglang.image },
    { key: PHASE, value: 'validate' },
  ]);

  const act = proxyActivities<Activities>(quickIo);
  const storage = proxyActivities<Activities>(longStorage);
  // A compile that failed once will most likely fail again: one retry, then compensation and a diagnosis.
  const compile = proxyActivities<Activities>({ ...longStorage, retry: { ...longStorage.retry, maximumAttempts: 2 } });
  const startMarginSec = platformStartMarginSec(spec.platform, spec.warmup.timeout);
  const health = proxyActivities<Activities>(healthWaitOptions(spec.health.startupTimeout, startMarginSec));
  const control = proxyActivities<Activities>(remoteControl);
  const checks = proxyActivities<Activities>(endpointCheckOptions(spec.warmup.timeout));
  const healthInput = {
    ...ref,
    secretName: spec.secrets.apiKey,
    startupTimeoutSec: spec.health.startupTimeout,
    pollIntervalSec: spec.health.pollInterval,
    ...(startMarginSec > 0 ? { platformStartMarginSec: startMarginSec } : {}),
  };
  const endpointInput = { ...ref, secretName: spec.secrets.apiKey, servedName: spec.model.servedName };

  let deploySpec = spec;
  let deployStartedAt: string | undefined;
  let smoke: SmokeResult[] = [];
  let endpoint = '';

  try {
    await work.run(async () => {
      await phase('validate', async () => {
        const validation = await act.validateSpec.executeWithOptions(
          { summary: 'Validate the spec (schema + the guide’s lint rules)' },
          [{ spec }],
        );
        state.warnings = validation.warnings;
        for (const [name, expectation] of Object.entries(validation.guideExpectations)) {
          const report = phaseReport(name as RolloutPhaseName);
          report.guideExpectation = expectation;
        }
        return validation.warnings.length > 0 ? `${validation.warnings.length} warning(s)` : 'clean';
      });

      await phase('weights', async () => {
        const weights = await storage.ensureWeights.executeWithOptions(
          { summary: `Download ${spec.model.repo}@${spec.model.revision} with sentinel` },
          [{ spec }],
        );
        await control.commitVolume.executeWithOptions({ summary: `Commit volume ${spec.volumes.weights}` }, [
          { spec, volume: 'weights' },
        ]);
        // Deploy the exact commit the sentinel vouches for, so a version (and a rollback to it) never follows a branch.
        if (weights.status.commit) deploySpec = { ...spec, model: { ...spec.model, revision: weights.status.commit } };
        return {
          isSkipped: weights.skipped,
          detail: weights.skipped
            ? `sentinel valid (${weights.status.fileCount} files), download skipped; volume committed`
            : `downloaded ${weights.filesDownloaded} files (${formatBytes(weights.bytesDownloaded)}); sentinel written; volume committed`,
        };
      });

      await phase('kernels', async () => {
        // A compile that did not finish may leave a partial cache; remove what this run wrote, never older caches.
        const removePartial: Compensation = {
          step: 'remove the partial DeepGEMM cache of this run',
          run: async () => {
            await act.invalidateKernels.executeWithOptions({ summary: 'Remove this run’s partial DeepGEMM cache' }, [
              { spec, onlyIfRolloutId: rolloutId },
            ]);
          },
        };
        compensations.unshift(removePartial);
        const kernels = await compile.compileKernels.executeWithOptions(
          { summary: `DeepGEMM compile for ${spec.gpu.type} (skipped when the marker is valid)` },
          [{ spec, rolloutId }],
        );
        compensations.splice(compensations.indexOf(removePartial), 1);
        await control.commitVolume.executeWithOptions({ summary: `Commit volume ${spec.volumes.kernels}` }, [
          { spec, volume: 'kernels' },
        ]);
        return {
          isSkipped: kernels.skipped,
          detail: kernels.skipped
            ? 'marker valid, compile skipped; volume committed'
            : 'compiled; marker written; volume committed',
        };
      });

      await phase('deploy', async () => {
        const previous = await act.currentDeployment.executeWithOptions(
          { summary: 'Remember the version serving now' },
          [ref],
        );
        state.previousVersion = previous?.version;
        // Registered before the deploy: a deploy that timed out may still have switched traffic.
        compensations.unshift(
          previous
            ? {
                step: `roll back to v${previous.version} and verify it is healthy`,
                run: async () => {
                  await act.rollbackTo.executeWithOptions({ summary: `Roll back to v${previous.version}` }, [
                    { ...ref, version: previous.version },
                  ]);
                  await proxyActivities<Activities>(
                    healthWaitOptions(previous.startupTimeoutSec, startMarginSec),
                  ).waitForHealth.executeWithOptions({ summary: `Verify v${previous.version} is healthy again` }, [
                    {
                      ...ref,
                      secretName: previous.secretName,
                      startupTimeoutSec: previous.startupTimeoutSec,
                      pollIntervalSec: previous.pollIntervalSec,
                      ...(startMarginSec > 0 ? { platformStartMarginSec: startMarginSec } : {}),
                    },
                  ]);
                },
              }
            : {
                step: 'stop the app (there was no previous version)',
                run: () => act.stopApp.executeWithOptions({ summary: `Stop ${spec.app}` }, [ref]),
              },
        );
        deployStartedAt = new Date(Date.now()).toISOString();
        const deployed = await control.deploy.executeWithOptions(
          { summary: `Deploy ${spec.app} (${spec.sglang.image}, ${spec.gpu.count}×${spec.gpu.type})` },
          [{ spec: deploySpec, rolloutId }],
        );
        state.deployedVersion = deployed.version;
        endpoint = deployed.endpoint;
        return `v${deployed.version}${previous ? ` (previous v${previous.version})` : ' (first version)'}`;
      });

      await phase('health', async () => {
        const result = await health.waitForHealth.executeWithOptions(
          { summary: `Poll /health until 200 (up to ${spec.health.startupTimeout}s)` },
          [healthInput],
        );
        state.healthAttempt = result.attempt;
        return `passed on attempt ${result.attempt}`;
      });

      await phase('warmup', async () => {
        const results = await checks.warmup.executeWithOptions(
          { summary: 'Warmup: chat, no-thinking, long context, tools' },
          [{ ...endpointInput, timeoutSec: spec.warmup.timeout }],
        );
        return results.map((r) => `${r.name} ${Math.round(r.durationMs)} ms`).join(', ');
      });

      await phase('smoke', async () => {
        smoke = await checks.smokeTest.executeWithOptions(
          { summary: 'Smoke tests: health, inference, models, tools, reasoning, metrics, auth' },
          [{ ...endpointInput, timeoutSec: Math.min(spec.warmup.timeout, 120) }],
        );
        return `${smoke.length}/${smoke.length} passed`;
      });
    });
  } catch (err) {
    const aborted = isCancellation(err) || Boolean(state.abortRequested);
    const failure = describeFailure(err, aborted, state.abortRequested);
    if (!aborted && deployStartedAt && ['health', 'warmup', 'smoke', 'deploy'].includes(state.phase)) {
      state.diagnoses = await CancellationScope.nonCancellable(() =>
        diagnoseQuietly(proxyActivities<Activities>({ ...quickIo, retry: { ...quickIo.retry, maximumAttempts: 2 } }), {
          ...ref,
          since: deployStartedAt!,
          secretName: spec.secrets.apiKey,
          ...symptomsOf(err),
        }),
      );
    }
    const failedPhase = state.phase;
    setPhase('compensating');
    await CancellationScope.nonCancellable(() => compensate(compensations, state.compensations));
    const leftOver = state.compensations.filter((c) => c.outcome === 'failed');
    setPhase(aborted ? 'aborted' : 'failed');
    const summary = [
      `${failure.message}`,
      `failed in phase ${failedPhase}`,
      ...state.diagnoses.map((d) => `diagnosis: ${d.title}: ${d.resolution} (${d.guideSection})`),
      ...state.compensations.map(
        (c) => `compensation ${c.outcome}: ${c.step}${c.outcome === 'failed' ? ` (${c.detail})` : ''}`,
      ),
    ].join('\n');
    if (leftOver.length > 0) {
      throw ApplicationFailure.create({
        type: ErrorType.CompensationFailed,
        nonRetryable: true,
        message: `${summary}\nleft to do by hand: ${leftOver.map((c) => c.step).join('; ')}`,
        details: [{ cause: failure.type, status: { ...state, elapsedMs: Date.now() - startedAtMs } }],
      });
    }
    throw ApplicationFailure.create({
      type: failure.type,
      nonRetryable: true,
      message: summary,
      details: [{ cause: failure.type, status: { ...state, elapsedMs: Date.now() - startedAtMs } }],
    });
  }

  setPhase('done');
  upsertSearchAttributes([{ key: DEPLOYED_VERSION, value: state.deployedVersion! }]);
  upsertMemo({
    knownGood: {
      version: state.deployedVersion,
      rolloutId,
      sglangImage: spec.sglang.image,
      gpuType: spec.gpu.type,
      at: new Date(Date.now()).toISOString(),
    },
  });
  log.info('rollout succeeded', { app: spec.app, version: state.deployedVersion });
  return {
    app: spec.app,
    rolloutId,
    outcome: 'succeeded',
    deployedVersion: state.deployedVersion!,
    previousVersion: state.previousVersion,
    endpoint,
    phases: state.phases,
    smoke,
    warnings: state.warnings,
    totalMs: Date.now() - startedAtMs,
  };

  function phaseReport(name: RolloutPhaseName): PhaseReport {
    return state.phases.find((p) => p.name === name)!;
  }

  function setPhase(phase: RolloutPhase): void {
    state.phase = phase;
    upsertSearchAttributes([{ key: PHASE, value: phase }]);
  }

  async function phase(
    name: RolloutPhaseName,
    body: () => Promise<string | { detail: string; isSkipped: boolean }>,
  ): Promise<void> {
    const report = phaseReport(name);
    const began = Date.now();
    setPhase(name);
    report.state = 'running';
    report.startedAt = new Date(began).toISOString();
    try {
      const outcome = await body();
      report.detail = typeof outcome === 'string' ? outcome : outcome.detail;
      report.state = typeof outcome !== 'string' && outcome.isSkipped ? 'skipped' : 'done';
    } catch (err) {
      report.state = 'failed';
      report.detail = describeFailure(err, isCancellation(err), state.abortRequested).message;
      throw err;
    } finally {
      report.durationMs = Date.now() - began;
    }
  }
}

/** Runs compensations in order (they were unshifted, so this is reverse order of the steps); never swallows a failure. */
async function compensate(compensations: Compensation[], reports: CompensationReport[]): Promise<void> {
  for (const compensation of compensations) {
    try {
      await compensation.run();
      reports.push({ step: compensation.step, outcome: 'done', detail: 'ok' });
    } catch (err) {
      const detail = describeFailure(err, false, undefined).message;
      log.error('compensation failed', { step: compensation.step, detail });
      reports.push({ step: compensation.step, outcome: 'failed', detail });
    }
  }
}

async function diagnoseQuietly(
  act: ActivityInterfaceFor<Activities>,
  input: Parameters<Activities['diagnoseApp']>[0],
): Promise<DiagnosisReport[]> {
  try {
    return await act.diagnoseApp.executeWithOptions(
      { summary: 'Diagnose from the engine logs (guide §12, §17, §18)' },
      [input],
    );
  } catch (err) {
    log.warn('diagnosis unavailable', { detail: describeFailure(err, false, undefined).message });
    return [];
  }
}

/** The symptoms a failed step recorded in its failure details (probe outcomes, failed smoke tests or warmups). */
function symptomsOf(err: unknown): { probeOutcomes?: string[]; smokeFailures?: string[]; warmupFailures?: string[] } {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return {};
  const details = (err.cause.details?.[0] ?? {}) as {
    outcomes?: Record<string, number>;
    results?: { name: string; passed?: boolean; ok?: boolean }[];
  };
  if (err.cause.type === ErrorType.SmokeTestFailed) {
    return { smokeFailures: (details.results ?? []).filter((r) => r.passed === false).map((r) => r.name) };
  }
  if (err.cause.type === ErrorType.WarmupFailed) {
    return { warmupFailures: (details.results ?? []).filter((r) => r.ok === false).map((r) => r.name) };
  }
  return details.outcomes ? { probeOutcomes: Object.keys(details.outcomes) } : {};
}

/** The failure type and message of whatever ended the work: an activity's ApplicationFailure, an abort, or else. */
function describeFailure(
  err: unknown,
  aborted: boolean,
  abortReason: string | undefined,
): { type: string; message: string } {
  if (aborted) return { type: ErrorType.Aborted, message: `aborted: ${abortReason ?? 'the workflow was cancelled'}` };
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { type: err.cause.type ?? ErrorType.TransportError, message: err.cause.message };
  }
  if (err instanceof ActivityFailure) {
    return { type: ErrorType.TransportError, message: err.cause?.message ?? err.message };
  }
  if (err instanceof ApplicationFailure) return { type: err.type ?? ErrorType.TransportError, message: err.message };
  return { type: ErrorType.TransportError, message: err instanceof Error ? err.message : String(err) };
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
