import { cancellationSignal, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Platform } from '../platforms/platform';
import { probeHealth, type HealthOutcome } from '../probes/health-probe';
import type { Spec } from '../spec/schema';
import { ErrorType } from '../shared/errors';
import type { AppRef } from './serving-activities';
import { withFailureTypes } from './to-application-failure';

/** What keep-warm activities need: a platform by name and the secret resolver (values never leave the worker). */
export interface KeepWarmActivityDeps {
  platformNamed(name: 'local' | 'modal'): Platform;
  resolveSecret(name: string): string;
}

/** Input of one keep-warm ping: the guide's `requests.get(f"{DEPLOYED_URL}/health", timeout=120)`. */
export interface PingHealthInput extends AppRef {
  secretName: string;
  /** @default 120 (guide §6) */
  timeoutSec: number;
  /** A 200 that took at least this long was a cold start (the replica had scaled to zero). */
  coldThresholdMs: number;
}

/** What one keep-warm ping saw. A cold start is a success that took long; anything but 200 is not a success. */
export interface PingHealthResult {
  outcome: HealthOutcome;
  httpStatus?: number;
  durationMs: number;
  wasCold: boolean;
  /** One line, never containing the API key. */
  detail: string;
}

/** The deployed version and the spec it runs, so an upgrade never needs the user to remember what is running. */
export interface DeployedSpec {
  version: number;
  spec: Spec;
  deployedAt: string;
}

/** Activities of the keep-warm schedule and of upgrades: one timed /health ping, and the spec that is serving. */
export const createKeepWarmActivities = (deps: KeepWarmActivityDeps) => ({
  /**
   * One GET /health with the guide's 120 s timeout. Cold is decided from the duration against `coldThresholdMs`,
   * not from a platform counter: the Platform port has none, and Modal shows a cold start to a client only as time.
   */
  async pingHealth(input: PingHealthInput): Promise<PingHealthResult> {
    const { apiKey, url } = await withFailureTypes(async () => ({
      apiKey: deps.resolveSecret(input.secretName),
      url: (await deps.platformNamed(input.platform).endpoint(input.app)).url,
    }));
    const startedMs = Date.now();
    const result = await probeHealth({
      baseUrl: url,
      apiKey,
      timeoutMs: input.timeoutSec * 1000,
      signal: cancellationSignal(),
    });
    const durationMs = Date.now() - startedMs;
    const wasCold = result.outcome === 'ok' && durationMs >= input.coldThresholdMs;
    log.info('keep-warm ping', { app: input.app, outcome: result.outcome, durationMs, wasCold });
    return {
      outcome: result.outcome,
      ...(result.status !== undefined ? { httpStatus: result.status } : {}),
      durationMs,
      wasCold,
      detail: result.detail,
    };
  },

  /** The spec of the version serving now; a NotFound failure when the app was never rolled out (or is stopped). */
  async currentDeploymentSpec(ref: AppRef): Promise<DeployedSpec> {
    const current = await withFailureTypes(() => deps.platformNamed(ref.platform).currentDeployment(ref.app));
    if (!current) {
      throw ApplicationFailure.create({
        type: ErrorType.NotFound,
        nonRetryable: true,
        message: `${ref.app} has no deployment on platform ${ref.platform}: roll it out first with \`glm-ops rollout SPEC\``,
      });
    }
    return { version: current.version, spec: current.spec, deployedAt: current.deployedAt };
  },
});

/** The keep-warm activities' surface. */
export type KeepWarmActivities = ReturnType<typeof createKeepWarmActivities>;
