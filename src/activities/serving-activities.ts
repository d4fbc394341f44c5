import { activityInfo, cancellationSignal, Context, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Platform } from '../platforms/platform';
import { pollHealth, seenOutcomes, type HealthOutcome } from '../probes/health-probe';
import { runSmokeTests } from '../probes/smoke-tests';
import { runWarmup } from '../probes/warmup-requests';
import type { Spec } from '../spec/schema';
import { diagnose, engineStageOf } from '../triage/diagnose';
import { ErrorType } from '../shared/errors';
import type { DiagnosisReport, SmokeResult } from '../shared/rollout-types';
import { healthWaitDeadline, type HealthHeartbeat } from './health-wait-budget';
import { KEEP_ALIVE_INTERVAL_MS, keepHeartbeating } from './keep-heartbeating';
import { withFailureTypes } from './to-application-failure';

/** What serving activities need: a platform by name and the secret resolver (values never leave the worker). */
export interface ServingActivityDeps {
  platformNamed(name: 'local' | 'modal'): Platform;
  resolveSecret(name: string): string;
}

/** Identifies an app on a platform. */
export interface AppRef {
  app: string;
  platform: 'local' | 'modal';
}

/** A deployment as activities report it: no spec body, just what the workflow needs to remember. */
export interface DeploymentSummary {
  version: number;
  rolloutId: string;
  sglangImage: string;
  gpuType: string;
  deployedAt: string;
  /** Names (never values) and timings a later health check of this version needs. */
  secretName: string;
  startupTimeoutSec: number;
  pollIntervalSec: number;
  /** The spec's `notify:` webhooks, when it has any. */
  notify?: Spec['notify'];
}

/** Input of the health wait. */
export interface HealthWaitInput extends AppRef {
  secretName: string;
  startupTimeoutSec: number;
  /**
   * Seconds the platform needs before the engine's own start-up counts (Modal: the first image pull, then the enter
   * hook's health wait and warmup before the route opens). Added to the deadline. @default 0
   */
  platformStartMarginSec?: number;
  pollIntervalSec: number;
  /** Consecutive 502s (engine died, container not replaced yet) that end the wait early as EngineCrashed. */
  consecutive502Limit?: number;
  /** The version that must answer (the one just deployed or rolled back to), not whichever still serves. */
  version?: number;
}

/** What the health wait saw. */
export interface HealthWaitResult {
  attempt: number;
  /** Wall-clock time since the wait first began, outages included. */
  elapsedMs: number;
  /** Time spent polling, over every attempt: what the engine used of its startup budget (absent from older workers). */
  polledMs?: number;
  outcomes: Partial<Record<HealthOutcome, number>>;
}

/** Input of warmup and smoke tests. */
export interface EndpointCheckInput extends AppRef {
  secretName: string;
  servedName: string;
  timeoutSec: number;
  /** The version the checks are for (the candidate), so they reach it even where the previous one still serves. */
  version?: number;
}

/** What the diagnosis reads besides the logs: the symptoms the failed step saw. */
export interface DiagnoseAppInput extends AppRef {
  since: string;
  secretName?: string;
  probeOutcomes?: string[];
  smokeFailures?: string[];
  warmupFailures?: string[];
  /** The rollout phase that failed (`health`, `smoke`, ...): the diagnosis offers only causes that fit it. */
  failedPhase?: string;
  /** The spec's SGLang flags, so a flag the spec sets is not blamed as missing. */
  launchArgs?: Record<string, string | number | boolean>;
}

const PROBE_TIMEOUT_MS = 10_000;

/** Activities that drive the serving side of a platform and probe its endpoint. */
export const createServingActivities = (deps: ServingActivityDeps) => {
  /** The endpoint and the API key to call it with; a missing secret becomes a typed, non-retryable failure. */
  const endpointWithKey = async (ref: AppRef, secretName: string): Promise<{ apiKey: string; url: string }> => {
    const apiKey = deps.resolveSecret(secretName);
    const { url } = await deps.platformNamed(ref.platform).endpoint(ref.app);
    return { apiKey, url };
  };
  /** What warmup and the smoke tests probe: the endpoint with its key, the served model, the per-request limit. */
  const checkTarget = async (input: EndpointCheckInput) => {
    const { apiKey, url } = await endpointWithKey(input, input.secretName);
    return {
      baseUrl: url,
      apiKey,
      servedName: input.servedName,
      timeoutMs: input.timeoutSec * 1000,
      ...(input.version === undefined ? {} : { version: input.version }),
    };
  };
  /** The secret's value when it exists, for masking evidence; a missing secret has nothing to mask. */
  const knownSecret = (name: string): string[] => {
    try {
      return [deps.resolveSecret(name)];
    } catch {
      return [];
    }
  };
  return withFailureTypes(
    {
      /** The version currently serving, remembered by the workflow for compensation. */
      async currentDeployment(ref: AppRef): Promise<DeploymentSummary | null> {
        const current = await deps.platformNamed(ref.platform).currentDeployment(ref.app);
        return current && summarize(current);
      },

      /**
       * Deploys the spec as a new version; a retry with the same rollout id returns the same version. Heartbeats while
       * the platform deploys (a first Modal deploy builds images for many minutes); only a rollout abort stops it, a
       * deploy that outlived its attempt finishes and the retry waits for it instead of starting a second one.
       */
      async deploy(input: {
        spec: Spec;
        rolloutId: string;
        /** A tune's trial: the platform does not refuse it for lint errors (see ServingPort.deploy). */
        isTrial?: boolean;
      }): Promise<DeploymentSummary & { endpoint: string }> {
        const platform = deps.platformNamed(input.spec.platform);
        const trial = input.isTrial ? { isTrial: true } : {};
        const deployment = await keepHeartbeating(
          () => platform.deploy(input.spec, { rolloutId: input.rolloutId, signal: abortRequested(), ...trial }),
          { onCancel: 'finish' },
        );
        const { url } = await platform.endpoint(input.spec.app);
        log.info('deployed', { app: input.spec.app, version: deployment.version, rolloutId: input.rolloutId });
        return { ...summarize(deployment), endpoint: url };
      },

      /** Routes traffic back to an existing version. */
      async rollbackTo(input: AppRef & { version: number }): Promise<DeploymentSummary> {
        const deployment = await deps.platformNamed(input.platform).rollback(input.app, input.version);
        log.info('rolled back', { app: input.app, version: deployment.version });
        return summarize(deployment);
      },

      /** Stops the app (used when a first rollout fails: nothing to go back to). */
      async stopApp(ref: AppRef): Promise<void> {
        return deps.platformNamed(ref.platform).stop(ref.app);
      },

      /** The endpoint URL of an app. */
      async appEndpoint(ref: AppRef): Promise<string> {
        return (await deps.platformNamed(ref.platform).endpoint(ref.app)).url;
      },

      /** Raises or lowers the warm floor of containers (keep-warm `pin`). */
      async setMinContainers(input: AppRef & { minContainers: number }): Promise<void> {
        return deps.platformNamed(input.platform).setMinContainers(input.app, input.minContainers);
      },

      /**
       * Polls /health until 200 or the startup timeout, in one heartbeating activity so a long wait adds no history.
       * 502 (engine died), 503 (starting) and timeouts are told apart in the result and the failure. A retry resumes
       * the attempt count, the outcome counts and the polling time used so far from the last heartbeat; the time from
       * that heartbeat to the retry (a dead worker, an unreachable Temporal) is not charged to the engine, and a
       * resumed wait probes once more before it may time out (healthWaitDeadline: the hard limit that remains).
       */
      async waitForHealth(input: HealthWaitInput): Promise<HealthWaitResult> {
        const resumed = activityInfo().heartbeatDetails as HealthHeartbeat | undefined;
        const marginSec = input.platformStartMarginSec ?? 0;
        const budgetMs = (input.startupTimeoutSec + marginSec) * 1000;
        const { apiKey, url } = await endpointWithKey(input, input.secretName);
        const pollStartMs = Date.now();
        const wait = healthWaitDeadline(budgetMs, pollStartMs, resumed);
        const { startedAtMs } = wait;
        if (resumed) {
          log.info('[health] resuming after a retry', {
            attempt: resumed.attempt,
            polledSec: Math.round(wait.chargedMs / 1000),
            budgetSec: budgetMs / 1000,
            uncountedSec: Math.round(wait.uncountedMs / 1000),
          });
        }
        const polledMs = (): number => wait.chargedMs + (Date.now() - pollStartMs);
        const limit502 = input.consecutive502Limit ?? 3;
        let consecutive502 = 0;
        const poll = await pollHealth({
          baseUrl: url,
          apiKey,
          ...(input.version === undefined ? {} : { version: input.version }),
          timeoutMs: PROBE_TIMEOUT_MS,
          signal: cancellationSignal(),
          pollIntervalMs: input.pollIntervalSec * 1000,
          deadlineMs: wait.deadlineMs,
          isFirstProbeUncut: wait.isResumed,
          startAttempt: (resumed?.attempt ?? 0) + 1,
          priorOutcomes: resumed?.outcomes ?? {},
          onProgress: (progress) =>
            heartbeat({ ...progress, startedAtMs, polledMs: polledMs(), atMs: Date.now() } satisfies HealthHeartbeat),
          progressIntervalMs: KEEP_ALIVE_INTERVAL_MS,
          shouldStop: (_attempt, result) =>
            (consecutive502 = result.outcome === 'bad-gateway' ? consecutive502 + 1 : 0) >= limit502,
        });
        const { attempt, last } = poll;
        const outcomes = seenOutcomes(poll.outcomeCounts);
        if (poll.ending === 'ok') {
          log.info(`[health] passed on attempt ${attempt}`, { app: input.app });
          return { attempt, elapsedMs: Date.now() - startedAtMs, polledMs: polledMs(), outcomes };
        }
        if (poll.ending === 'stopped') {
          throw ApplicationFailure.create({
            type: ErrorType.EngineCrashed,
            message: `the engine of ${input.app} died during start-up: ${consecutive502} consecutive 502 Bad Gateway answers from /health (attempt ${attempt})`,
            details: [{ attempt, outcomes, lastStatus: last.status }],
          });
        }
        const isHardLimit = Date.now() >= wait.hardDeadlineMs && polledMs() < budgetMs;
        const limit = isHardLimit
          ? `; the wait's hard limit of ${Math.round((wait.hardDeadlineMs - startedAtMs) / 1000)}s since it began passed (outages included)`
          : '';
        throw ApplicationFailure.create({
          type: ErrorType.HealthTimeout,
          message: `/health of ${input.app} did not answer 200 within health.startupTimeout ${input.startupTimeoutSec}s${marginSec > 0 ? ` (+ ${marginSec}s for the platform's image pull, health and warmup)` : ''} (${attempt} attempts over ${Math.round(polledMs() / 1000)}s of polling${limit}; last: ${last.outcome}${last.status ? ` HTTP ${last.status}` : ''}; seen: ${describeOutcomes(outcomes)})`,
          details: [{ attempt, outcomes, lastOutcome: last.outcome, polledMs: polledMs(), isHardLimit }],
        });
      },

      /**
       * The guide's four diverse warmup completions, concurrently, within warmup.timeout; heartbeats while they run (a
       * first completion may wait for the engine's graph capture), and a cancellation ends it at once.
       */
      async warmup(input: EndpointCheckInput): Promise<{ name: string; durationMs: number }[]> {
        const target = await checkTarget(input);
        const results = await keepHeartbeating((signal) => runWarmup({ ...target, signal }));
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) {
          throw ApplicationFailure.create({
            type: ErrorType.WarmupFailed,
            message: `warmup failed for ${failed.map((f) => `${f.name} (${f.detail})`).join(', ')}`,
            details: [
              { results: results.map(({ name, ok, detail, durationMs }) => ({ name, ok, detail, durationMs })) },
            ],
          });
        }
        return results.map((r) => ({ name: r.name, durationMs: r.durationMs }));
      },

      /**
       * Post-deploy smoke tests, each a named result; any failure fails the activity with every result attached.
       * Heartbeats while they run, and a cancellation ends it at once.
       */
      async smokeTest(input: EndpointCheckInput): Promise<SmokeResult[]> {
        const target = await checkTarget(input);
        const results = await keepHeartbeating((signal) => runSmokeTests({ ...target, signal }));
        const failed = results.filter((r) => !r.passed);
        if (failed.length > 0) {
          throw ApplicationFailure.create({
            type: ErrorType.SmokeTestFailed,
            message: `smoke tests failed: ${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')}`,
            details: [{ results }],
          });
        }
        return results;
      },

      /** Reads the engine's recent logs and matches them against the guide's triage tables. */
      async diagnoseApp(input: DiagnoseAppInput): Promise<DiagnosisReport[]> {
        try {
          const lines = await deps.platformNamed(input.platform).logs(input.app, { since: input.since, limit: 5000 });
          const secrets = input.secretName ? knownSecret(input.secretName) : [];
          return diagnose({
            logLines: lines.map((l) => l.text),
            probeOutcomes: input.probeOutcomes,
            smokeFailures: input.smokeFailures,
            warmupFailures: input.warmupFailures,
            ...(input.failedPhase ? { stage: engineStageOf(input.failedPhase) } : {}),
            ...(input.launchArgs ? { launchArgs: input.launchArgs } : {}),
            secrets,
          }).filter((d) => d.severity !== 'benign');
        } catch (err) {
          // Diagnosis is best effort: a failed log fetch must not hide the original failure.
          throw ApplicationFailure.create({
            type: ErrorType.TransportError,
            category: ApplicationFailureCategory.BENIGN,
            message: `could not read logs of ${input.app}: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
      },
    },
    // A deploy that failed for a reason nobody typed is still a failed deploy.
    { deploy: ErrorType.DeployFailed },
  );
};

/** A signal fired only when the workflow cancelled the activity (an abort), not on a timeout or a worker shutdown. */
function abortRequested(): AbortSignal {
  const context = Context.current();
  const controller = new AbortController();
  // The listener runs outside the activity's async context: read the details from the captured context.
  context.cancellationSignal.addEventListener(
    'abort',
    () => {
      if (context.cancellationDetails?.cancelRequested) controller.abort();
    },
    { once: true },
  );
  return controller.signal;
}

/** What the workflows keep of a deployment (no spec body); also used by the verification activities. */
export function summarize(deployment: {
  version: number;
  rolloutId: string;
  spec: Spec;
  deployedAt: string;
}): DeploymentSummary {
  return {
    version: deployment.version,
    rolloutId: deployment.rolloutId,
    sglangImage: deployment.spec.sglang.image,
    gpuType: deployment.spec.gpu.type,
    deployedAt: deployment.deployedAt,
    secretName: deployment.spec.secrets.apiKey,
    startupTimeoutSec: deployment.spec.health.startupTimeout,
    pollIntervalSec: deployment.spec.health.pollInterval,
    // The webhooks of the version's spec (secret names, never URLs): a rollback of the app tells them.
    ...(deployment.spec.notify ? { notify: deployment.spec.notify } : {}),
  };
}

function describeOutcomes(outcomes: Partial<Record<HealthOutcome, number>>): string {
  return Object.entries(outcomes)
    .map(([outcome, count]) => `${outcome}×${count}`)
    .join(', ');
}
