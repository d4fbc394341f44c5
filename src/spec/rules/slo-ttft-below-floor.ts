import { findingOf, type LintRule } from '../finding';

/** The guide's warm, low-concurrency TTFT on 8×B200 with pre-captured graphs: no load can beat it. */
export const GUIDE_TTFT_FLOOR_MS: Readonly<Record<string, number>> = { B200: 246 };

/** A TTFT target below what the hardware does at its best fails every rollout's gate. */
export const sloTtftBelowFloor: LintRule = {
  id: 'slo-ttft-below-floor',
  summary: "slo.ttftP95Ms below the guide's TTFT floor for the GPU (~246 ms on B200)",
  reason: 'guide §10 performance baselines: TTFT ~246 ms warm, at low concurrency, with pre-captured graphs (8×B200)',
  check(spec) {
    const floor = GUIDE_TTFT_FLOOR_MS[spec.gpu.type.toUpperCase()];
    if (!spec.slo.enabled || floor === undefined || spec.slo.ttftP95Ms >= floor) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'slo.ttftP95Ms',
        message: `slo.ttftP95Ms ${spec.slo.ttftP95Ms} is below the guide's ~${floor} ms TTFT floor on ${spec.gpu.type}: a p95 under the best-case median fails every gate`,
        fix: `set slo.ttftP95Ms to ${floor} or more (the guide's target is ~300 ms)`,
      }),
    ];
  },
};
