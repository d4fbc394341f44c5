import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { CronSyntaxError, parseCron } from '../spec/cron-schedule';
import type { Spec } from '../spec/schema';
import { estimateStartup } from '../spec/startup-estimate';
import { APP } from '../shared/search-attributes';
import type { KeepWarmInput } from '../shared/keep-warm-types';
import { KEEP_WARM_COST_MEMO_KEY, type StoredKeepWarmCost } from './keep-warm-cost';
import { pinWindowOf } from './pin-window';
import { assertTimeZone, MaintenanceTimeError } from './zoned-time';

/** The guide's keep-alive GET timeout (§6: `requests.get(..., timeout=120)`). */
export const KEEP_WARM_TIMEOUT_SEC = 120;
/**
 * Missed fires are caught up only within this window: a ping an hour late keeps nothing warm, and a worker outage
 * must not end in a burst of stale pings.
 */
export const KEEP_WARM_CATCHUP_WINDOW = '1 minute';

/** The schedule id of an app's keep-warm: `keepwarm/<app>`. */
export function keepWarmScheduleId(app: string): string {
  return `keepwarm/${app}`;
}

/** The schedule that lowers min containers when a `pin` window closes. */
export function keepWarmReleaseScheduleId(app: string): string {
  return `keepwarm/${app}/release`;
}

/** A keep-warm setting that cannot become a schedule; `field` names the spec field. */
export class KeepWarmScheduleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeepWarmScheduleError';
  }
}

/**
 * A 200 slower than half the quickest cold start (provision + weight load at the fast end, §7) was a cold start; a
 * warm SGLang /health is one 1-token generation. Clamped so neither a tiny local time scale nor Modal's minutes blur it.
 */
export function coldThresholdMsFor(spec: Spec): number {
  const estimate = estimateStartup(spec);
  const lowSeconds = estimate.phases
    .filter((p) => p.name === 'provision' || p.name === 'weightLoad')
    .reduce((sum, p) => sum + (p.isEngineInternal ? p.lowSeconds * estimate.timeScale : p.lowSeconds), 0);
  return Math.round(Math.min(60_000, Math.max(200, (lowSeconds * 1000) / 2)));
}

/** The keep-warm run's input for a spec: names and timings only, never a secret value. */
export function keepWarmInputFor(spec: Spec, action: KeepWarmInput['action']): KeepWarmInput {
  return {
    app: spec.app,
    platform: spec.platform,
    secretName: spec.secrets.apiKey,
    strategy: spec.keepWarm.strategy,
    action,
    timeoutSec: KEEP_WARM_TIMEOUT_SEC,
    coldThresholdMs: coldThresholdMsFor(spec),
    pinnedMinContainers: Math.max(1, spec.modal.minContainers),
    baseMinContainers: spec.modal.minContainers,
  };
}

/** Validates keepWarm.cron and keepWarm.timezone, naming the field and the fix. */
export function assertKeepWarmSettings(spec: Spec): void {
  try {
    parseCron(spec.keepWarm.cron);
  } catch (err) {
    if (!(err instanceof CronSyntaxError)) throw err;
    throw new KeepWarmScheduleError(
      'keepWarm.cron',
      `keepWarm.cron: ${err.message}: write a five-field cron such as "*/14 6-22 * * MON-FRI"`,
    );
  }
  try {
    assertTimeZone(spec.keepWarm.timezone, 'keepWarm.timezone');
  } catch (err) {
    if (!(err instanceof MaintenanceTimeError)) throw err;
    throw new KeepWarmScheduleError('keepWarm.timezone', err.message);
  }
  if (spec.keepWarm.strategy === 'pin') {
    try {
      pinWindowOf(spec.keepWarm.cron);
    } catch (err) {
      throw new KeepWarmScheduleError('keepWarm.cron', (err as Error).message);
    }
  }
}

/**
 * The schedules of an app's keep-warm. `ping`: one, `keepwarm/<app>`, on keepWarm.cron. `pin`: the same schedule
 * (each fire raises min containers again, because a deploy resets the override, then pings) plus
 * `keepwarm/<app>/release`, which lowers min containers at the hour after the cron's last firing hour. Two schedules
 * rather than one long-running workflow: nothing sleeps for 16 hours, and each edge shows up in the UI as its own run.
 */
export function keepWarmSchedules(
  spec: Spec,
  options: { taskQueue: string; cost?: StoredKeepWarmCost },
): ScheduleOptions[] {
  assertKeepWarmSettings(spec);
  const schedule = (
    scheduleId: string,
    cron: string,
    action: KeepWarmInput['action'],
    summary: string,
  ): ScheduleOptions => ({
    scheduleId,
    spec: { cronExpressions: [cron], timezone: spec.keepWarm.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'keepWarm',
      workflowId: scheduleId,
      taskQueue: options.taskQueue,
      args: [keepWarmInputFor(spec, action)],
      workflowExecutionTimeout: `${KEEP_WARM_TIMEOUT_SEC + 120} seconds`,
      staticSummary: summary,
      typedSearchAttributes: [{ key: APP, value: spec.app }],
      // The action (unlike the schedule's memo) is rewritten by every `enable`, so the stored cost stays current.
      ...(options.cost ? { memo: { [KEEP_WARM_COST_MEMO_KEY]: options.cost } } : {}),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: KEEP_WARM_CATCHUP_WINDOW, pauseOnFailure: false },
    typedSearchAttributes: [{ key: APP, value: spec.app }],
    // The schedule's memo is written at creation only (an update cannot change it): nothing here that `enable` changes.
    memo: { app: spec.app },
  });
  const schedules = [
    schedule(
      keepWarmScheduleId(spec.app),
      spec.keepWarm.cron,
      'ping',
      spec.keepWarm.strategy === 'pin'
        ? `Keep ${spec.app} warm: pin min containers and GET /health (${spec.keepWarm.cron} ${spec.keepWarm.timezone})`
        : `Keep ${spec.app} warm: GET /health (${spec.keepWarm.cron} ${spec.keepWarm.timezone})`,
    ),
  ];
  if (spec.keepWarm.strategy === 'pin') {
    const window = pinWindowOf(spec.keepWarm.cron);
    schedules.push(
      schedule(
        keepWarmReleaseScheduleId(spec.app),
        window.releaseCron,
        'release',
        `Pin window of ${spec.app} closed: min containers back to ${spec.modal.minContainers}`,
      ),
    );
  }
  return schedules;
}
