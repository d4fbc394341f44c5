import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { UpgradeInput } from '../shared/upgrade-types';
import { APP } from '../shared/search-attributes';
import { MONTHS } from './calendar-months';
import {
  assertTimeZone,
  MaintenanceTimeError,
  parseWallClockTime,
  zonedTimeToInstant,
  type WallClockTime,
} from './zoned-time';

/**
 * A late start is still taken within this window (a server restart at 02:00 should not skip the maintenance);
 * later than that the window is over and the upgrade must be rescheduled.
 */
export const UPGRADE_CATCHUP_WINDOW = '15 minutes';

/** A maintenance window resolved to an instant. */
export interface MaintenanceTime {
  wallClock: WallClockTime;
  timeZone: string;
  instant: Date;
  /** `20261201T0200` — the `<time>` of `upgrade/<app>/<time>`. */
  label: string;
}

/** Parses `--at` in `--timezone` and refuses a time that is not in the future. */
export function resolveMaintenanceTime(at: string, timeZone: string, now: Date = new Date()): MaintenanceTime {
  assertTimeZone(timeZone);
  const wallClock = parseWallClockTime(at);
  const instant = zonedTimeToInstant(wallClock, timeZone);
  if (instant.getTime() <= now.getTime()) {
    throw new MaintenanceTimeError(
      '--at',
      `--at ${at} ${timeZone} (${instant.toISOString()}) is in the past: give a future maintenance time, or leave --at out to upgrade now`,
    );
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  return {
    wallClock,
    timeZone,
    instant,
    label: `${wallClock.year}${pad(wallClock.month)}${pad(wallClock.day)}T${pad(wallClock.hour)}${pad(wallClock.minute)}`,
  };
}

/** The `<time>` part of an immediate upgrade's id, in UTC. */
export function upgradeTimeLabel(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
}

/** The id of an upgrade workflow and of its one-shot schedule: `upgrade/<app>/<time>`. */
export function upgradeId(app: string, timeLabel: string): string {
  return `upgrade/${app}/${timeLabel}`;
}

/**
 * A one-shot schedule for the maintenance window: one calendar entry at that date and minute in the zone, and
 * `remainingActions: 1` so it never fires again.
 */
export function upgradeScheduleOptions(
  input: UpgradeInput,
  at: MaintenanceTime,
  options: { taskQueue: string; scheduleId: string },
): ScheduleOptions {
  const { wallClock } = at;
  return {
    scheduleId: options.scheduleId,
    spec: {
      calendars: [
        {
          year: wallClock.year,
          month: MONTHS[wallClock.month - 1]!,
          dayOfMonth: wallClock.day,
          hour: wallClock.hour,
          minute: wallClock.minute,
          second: 0,
          comment: `maintenance window for upgrade ${input.upgradeId}`,
        },
      ],
      timezone: at.timeZone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'upgrade',
      workflowId: options.scheduleId,
      taskQueue: options.taskQueue,
      args: [input],
      staticSummary: `Upgrade ${input.app}: ${[input.request.sglangImage, input.request.gpuType].filter(Boolean).join(', ')} (maintenance window ${at.label} ${at.timeZone})`,
      typedSearchAttributes: [{ key: APP, value: input.app }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: UPGRADE_CATCHUP_WINDOW, pauseOnFailure: false },
    state: { remainingActions: 1, note: `one-shot upgrade at ${at.label} ${at.timeZone}` },
    typedSearchAttributes: [{ key: APP, value: input.app }],
    memo: { app: input.app, upgradeId: input.upgradeId, at: at.instant.toISOString() },
  };
}
