import { sloConcurrency } from '../slo-schema';
import { findingOf, type LintRule } from '../finding';
import { numberArg } from '../spec-args';

/** A gate load above every decode slot the app can ever have measures the queue, not the version. */
export const sloConcurrencyAboveCapacity: LintRule = {
  id: 'slo-concurrency-above-capacity',
  summary: 'slo.load.concurrency above maxContainers × max-running-requests (the gate measures queueing)',
  reason:
    'guide §4, §10, §18 "TTFT spikes to 2–3 seconds under load": past the running cap requests queue and TTFT inflates',
  check(spec) {
    if (!spec.slo.enabled) return [];
    const concurrency = sloConcurrency(spec.slo.load);
    const running = numberArg(spec, 'max-running-requests');
    if (concurrency === undefined || running === undefined) return [];
    const capacity = spec.modal.maxContainers * running;
    if (concurrency <= capacity) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'slo.load.concurrency',
        message: `slo.load.concurrency ${concurrency} exceeds modal.maxContainers ${spec.modal.maxContainers} × max-running-requests ${running} = ${capacity} decode slots: ${concurrency - capacity} users always queue, so TTFT p95 measures the queue`,
        fix: `lower slo.load.concurrency to ${capacity}, or raise modal.maxContainers to ${Math.ceil(concurrency / running)}`,
      }),
    ];
  },
};
