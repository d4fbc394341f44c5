import { findingOf, type LintRule } from '../finding';
import { usesEagle } from '../spec-args';

/** Without speculative decoding the server reports no accept length, so the gate could never pass the figure. */
export const sloAcceptLengthWithoutEagle: LintRule = {
  id: 'slo-accept-length-without-eagle',
  summary: 'slo.minAcceptLength set without EAGLE speculative decoding (no accept length to measure)',
  reason: "guide §2, §10: the accept length (~3.5 tokens) is EAGLE's; /server_info reports none without it",
  check(spec) {
    if (!spec.slo.enabled || spec.slo.minAcceptLength === undefined || usesEagle(spec)) return [];
    return [
      findingOf(this, {
        level: 'error',
        path: 'slo.minAcceptLength',
        message: `slo.minAcceptLength ${spec.slo.minAcceptLength} needs EAGLE, but sglang.args sets no EAGLE speculative-algorithm: every gate would be inconclusive`,
        fix: 'remove slo.minAcceptLength, or enable EAGLE (speculative-algorithm: EAGLE, guide §2)',
      }),
    ];
  },
};
