import { findingOf, type LintRule } from '../finding';
import { estimateStartup } from '../startup-estimate';

/** Margin over the graph-capture + warmup estimate. */
export const WARMUP_MARGIN_FACTOR = 1.25;

/** First-time CUDA graph capture makes warmup requests slow; the timeout must cover it. */
export const warmupTimeoutShorterThanCapture: LintRule = {
  id: 'warmup-timeout-shorter-than-capture',
  summary: 'warmup.timeout shorter than CUDA graph capture + the four warmup requests',
  reason:
    'guide §18 "Warmup requests fail with 500 errors or timeouts": increase warmup timeout from 300 s to 600 s; §7 phases',
  check(spec, context) {
    const estimate = estimateStartup(spec, { volumeThroughputGBps: context.volumeThroughputGBps });
    const neededSeconds = Math.ceil(estimate.warmupHighSeconds * WARMUP_MARGIN_FACTOR);
    if (spec.warmup.timeout >= neededSeconds) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'warmup.timeout',
        message: `warmup.timeout ${spec.warmup.timeout} s is shorter than ${neededSeconds} s (graph capture 2–3 min + warmup 1–2 min${estimate.timeScale !== 1 ? `, at local.timeScale ${estimate.timeScale}` : ''}, ×${WARMUP_MARGIN_FACTOR})`,
        fix: `set warmup.timeout to at least ${neededSeconds}${spec.platform === 'modal' ? ' (the guide uses 600)' : ''}`,
      }),
    ];
  },
};
