import { cancellationSignal, log } from '@temporalio/activity';
import type { Platform } from '../platforms/platform';
import { probeHealth, type HealthOutcome } from '../probes/health-probe';
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

/** Activities of the keep-warm schedule: one timed /health ping. */
export const createKeepWarmActivities = (deps: KeepWarmActivityDeps) =>
  withFailureTypes({
    /**
     * One GET /health with the guide's 120 s timeout. Cold is decided from the duration against `coldThresholdMs`,
     * not from a platform counter: the Platform port has none, and Modal shows a cold start to a client only as time.
     */
    async pingHealth(input: PingHealthInput): Promise<PingHealthResult> {
      const apiKey = deps.resolveSecret(input.secretName);
      const { url } = await deps.platformNamed(input.platform).endpoint(input.app);
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
  });

/** The keep-warm activities' surface. */
export type KeepWarmActivities = ReturnType<typeof createKeepWarmActivities>;
