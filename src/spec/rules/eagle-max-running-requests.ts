import { findingOf, type LintRule } from '../finding';
import { numberArg, usesEagle } from '../spec-args';

/** The guide's EAGLE guardrail on concurrent decodes. */
export const EAGLE_MAX_RUNNING_REQUESTS = 48;

/** Past 48 running requests the EAGLE verifier queue grows and TTFT inflates. */
export const eagleMaxRunningRequests: LintRule = {
  id: 'eagle-max-running-requests',
  summary: 'max-running-requests above 48 with EAGLE (TTFT inflation)',
  reason: 'guide §1, §2, §4, §10, §18: EAGLE verify queue grows past 48 running requests; TTFT spikes to 2–3 s',
  check(spec) {
    const value = numberArg(spec, 'max-running-requests');
    if (!usesEagle(spec)) return [];
    if (value !== undefined && value <= EAGLE_MAX_RUNNING_REQUESTS) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'sglang.args.max-running-requests',
        message:
          value === undefined
            ? `max-running-requests is unset with EAGLE, so SGLang's own (higher) limit applies`
            : `max-running-requests ${value} with EAGLE exceeds the guide's guardrail of ${EAGLE_MAX_RUNNING_REQUESTS}: TTFT inflates under load`,
        fix: `set max-running-requests to ${EAGLE_MAX_RUNNING_REQUESTS} or lower (32–40 for lower TTFT variance); scale max_containers for throughput`,
      }),
    ];
  },
};
