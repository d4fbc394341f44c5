import { findingOf, type LintRule } from '../finding';
import { watchdogSeconds } from '../spec-args';
import { estimateStartup } from '../startup-estimate';

/** Margin over the slow weight-load estimate that the watchdog must leave. */
export const WATCHDOG_MARGIN_FACTOR = 1.5;

/**
 * The guide's watchdog margin over the weight load. Recorded SGLang 0.5.17 arms its scheduler watchdog only once
 * start-up is done (a 1 s watchdog survived a 4.5 s load and fired on a stalled forward pass), so on that release the
 * risk is a stalled first forward (DeepGEMM JIT, a long prefill) rather than the load itself; the guide's value is
 * kept because the guide's image and the production deploy both set it for the load.
 */
export const watchdogShorterThanLoad: LintRule = {
  id: 'watchdog-shorter-than-load',
  summary: 'watchdog-timeout shorter than the estimated weight load plus margin',
  reason:
    'guide §5, §13: default watchdog too short for a 700 GB load → intermittent startup kills; production sets 1200 ' +
    '(recorded SGLang 0.5.17 fires it on a forward pass that stalls longer than the timeout, not during the load)',
  check(spec, context) {
    const estimate = estimateStartup(spec, { volumeThroughputGBps: context.volumeThroughputGBps });
    const neededSeconds = Math.ceil(estimate.weightLoadHighSeconds * WATCHDOG_MARGIN_FACTOR);
    const watchdog = watchdogSeconds(spec);
    if (watchdog.seconds >= neededSeconds) return [];
    const loadSeconds = Math.round(estimate.weightLoadHighSeconds);
    return [
      findingOf(this, {
        level: 'error',
        path: 'sglang.args.watchdog-timeout',
        message: `${watchdog.isDefault ? `watchdog-timeout is unset (SGLang default ${watchdog.seconds} s)` : `watchdog-timeout ${watchdog.seconds} s`} is shorter than ${neededSeconds} s: loading ${spec.model.weightsGB} GB takes up to ~${loadSeconds} s (×${WATCHDOG_MARGIN_FACTOR} margin)`,
        fix: `set watchdog-timeout to at least ${Math.max(neededSeconds, 1200)} (the guide uses 1200)`,
      }),
    ];
  },
};
