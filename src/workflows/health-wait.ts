import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RolloutInput } from '../shared/rollout-types';
import { healthWait } from './retry-profiles';

type AppRef = { app: string; platform: 'local' | 'modal' };
type Spec = RolloutInput['spec'];

/** How a version answers its health check: the secret's name (never its value) and its start-up timings. */
export interface HealthCheckOf {
  secretName: string;
  startupTimeoutSec: number;
  pollIntervalSec: number;
  /** The version that must answer; the probe names it so a platform still serving the previous one cannot pass it. */
  version?: number;
}

/** The health check of `version` as the spec states it (a fresh deploy: the spec's secret and start-up timings). */
export function specHealthCheck(spec: Spec, version: number): HealthCheckOf {
  return {
    secretName: spec.secrets.apiKey,
    startupTimeoutSec: spec.health.startupTimeout,
    pollIntervalSec: spec.health.pollInterval,
    version,
  };
}

/** On Modal the first /health also waits for the image pull and the enter hook's health + warmup (seconds). */
const MODAL_IMAGE_PULL_MARGIN_SEC = 15 * 60;

/** What the platform adds to the engine's start-up before /health can pass (Modal: image pull, enter hook). */
export function platformStartMarginSec(platform: 'local' | 'modal', warmupTimeoutSec: number): number {
  return platform === 'modal' ? Math.ceil(warmupTimeoutSec) + MODAL_IMAGE_PULL_MARGIN_SEC : 0;
}

/**
 * Polls /health of the app (of `health.version` when given, not whichever version still serves) until 200, in one heartbeating activity (a long wait adds no history);
 * fails with HealthTimeout or EngineCrashed.
 */
export async function waitUntilHealthy(
  ref: AppRef,
  health: HealthCheckOf,
  options: { summary: string; marginSec?: number },
): Promise<{ attempt: number }> {
  const marginSec = options.marginSec ?? 0;
  return proxyActivities<Activities>(healthWait(health.startupTimeoutSec, marginSec)).waitForHealth.executeWithOptions(
    { summary: options.summary },
    [
      {
        ...ref,
        secretName: health.secretName,
        startupTimeoutSec: health.startupTimeoutSec,
        pollIntervalSec: health.pollIntervalSec,
        ...(health.version === undefined ? {} : { version: health.version }),
        ...(marginSec > 0 ? { platformStartMarginSec: marginSec } : {}),
      },
    ],
  );
}
