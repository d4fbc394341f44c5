import { findingOf, type LintRule } from '../finding';
import { estimateStartup } from '../startup-estimate';

/** Margin over the slow start-up estimate that health polling must allow. */
export const HEALTH_MARGIN_FACTOR = 1.25;

/** Health polling must wait for provisioning, weight load and graph capture. */
export const healthTimeoutShorterThanStartup: LintRule = {
  id: 'health-timeout-shorter-than-startup',
  summary: 'health.startupTimeout shorter than provision + weight load + graph capture',
  reason:
    'guide §7 cold-start phases and §17 ("[health] passed on attempt 15+ … near 900s timeout … consider longer startup_timeout")',
  check(spec, context) {
    const estimate = estimateStartup(spec, { volumeThroughputGBps: context.volumeThroughputGBps });
    const neededSeconds = Math.ceil(estimate.untilHealthyHighSeconds * HEALTH_MARGIN_FACTOR);
    if (spec.health.startupTimeout >= neededSeconds) return [];
    const scaleNote = estimate.timeScale !== 1 ? ` at local.timeScale ${estimate.timeScale}` : '';
    return [
      findingOf(this, {
        level: 'error',
        path: 'health.startupTimeout',
        message: `health.startupTimeout ${spec.health.startupTimeout} s is shorter than ${neededSeconds} s, the estimated time until /health can pass${scaleNote} (${Math.round(estimate.untilHealthyHighSeconds)} s ×${HEALTH_MARGIN_FACTOR})`,
        fix: `set health.startupTimeout to at least ${neededSeconds}${spec.platform === 'modal' ? ' (the guide polls up to 900 s)' : ''}`,
      }),
    ];
  },
};
