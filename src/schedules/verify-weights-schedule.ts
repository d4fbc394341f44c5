import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Spec } from '../spec/schema';
import { APP } from '../shared/search-attributes';
import type { VerifyWeightsInput } from '../shared/verify-weights-types';

/** The schedule id (and each run's workflow id) of an app's scheduled full re-hash: `verify/<app>`. */
export function verifyWeightsScheduleId(app: string): string {
  return `verify/${app}`;
}

/** A late verify still says something (unlike a late keep-warm ping), but a worker outage must not queue a burst. */
export const VERIFY_CATCHUP_WINDOW = '6 hours';

/** A spec that cannot become a verify schedule; `field` names the spec field. */
export class VerifyScheduleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'VerifyScheduleError';
  }
}

/**
 * The `verify/<app>` schedule of a spec's `weights.verify` (cron and zone are validated by the spec schema): it
 * starts `verifyWeights` with the spec, one run at a time (a re-hash still running skips the next fire), and keeps
 * firing after a failed run, since each failure is the alert for that check.
 */
export function verifyWeightsSchedule(spec: Spec, options: { taskQueue: string }): ScheduleOptions {
  const settings = spec.weights?.verify;
  if (!settings) {
    throw new VerifyScheduleError(
      'weights.verify',
      `weights.verify is not set in the spec of ${spec.app}: add weights: { verify: { schedule: "0 3 * * SUN", timezone: UTC } }`,
    );
  }
  const scheduleId = verifyWeightsScheduleId(spec.app);
  const input: VerifyWeightsInput = { spec };
  return {
    scheduleId,
    spec: { cronExpressions: [settings.schedule], timezone: settings.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'verifyWeights',
      workflowId: scheduleId,
      taskQueue: options.taskQueue,
      args: [input],
      staticSummary: `Re-hash the weights of ${spec.app} against the sentinel (${settings.schedule} ${settings.timezone})`,
      typedSearchAttributes: [{ key: APP, value: spec.app }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: VERIFY_CATCHUP_WINDOW, pauseOnFailure: false },
    typedSearchAttributes: [{ key: APP, value: spec.app }],
    memo: { app: spec.app, repo: spec.model.repo },
  };
}
