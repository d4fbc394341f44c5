import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { calendarSentence } from './calendar-sentence';
import { calendarText } from './calendar-text';
import { formatInZone } from './zoned-display';

/**
 * The schedule operations every glm-ops schedule (keep-warm, its release, weights verify) is managed with: create or
 * update in place, delete, describe, read recent runs, trigger and find the run the trigger started.
 */

/** What `enable` did to one schedule. */
export interface ScheduleChange {
  scheduleId: string;
  change: 'created' | 'updated';
}

/**
 * Creates the schedule, or updates it in place when it exists, so `enable` is idempotent. The pause state (and its
 * note) is the operator's and survives; memo and search attributes are set at creation only (the update API
 * cannot change them).
 */
export async function createOrUpdateSchedule(client: Client, schedule: ScheduleOptions): Promise<ScheduleChange> {
  try {
    await client.schedule.create(schedule);
    return { scheduleId: schedule.scheduleId, change: 'created' };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const { scheduleId, memo: _memo, typedSearchAttributes: _attributes, ...update } = schedule;
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...update, state: previous.state }));
  return { scheduleId, change: 'updated' };
}

/** Deletes the schedule; false when there was none. */
export async function deleteScheduleIfPresent(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** The schedule as the server holds it, or undefined when there is none. */
export async function describeScheduleIfPresent(
  client: Client,
  scheduleId: string,
): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** The schedule as the server holds it; `whenMissing` says what a missing one means to the caller. */
export async function describeSchedule(
  client: Client,
  scheduleId: string,
  whenMissing: () => Error,
): Promise<ScheduleDescription> {
  const description = await describeScheduleIfPresent(client, scheduleId);
  if (!description) throw whenMissing();
  return description;
}

/** One run a schedule started, as its recent actions name it. */
export interface ScheduledRun {
  workflowId: string;
  runId: string;
  takenAt: Date;
}

/** The recent runs of one or more schedules, newest first, at most `limit`. */
export function newestRuns(descriptions: ScheduleDescription[], limit = 10): ScheduledRun[] {
  return descriptions
    .flatMap((d) => d.info.recentActions)
    .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime())
    .slice(0, limit)
    .map((a) => ({
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
      takenAt: a.takenAt,
    }));
}

/** When the schedule fires, read back from the server: for machines (cron-like fields, ISO instants) and for people. */
export interface WhenItFires {
  /** The calendars the server stores (cron expressions are converted), rendered cron-like. */
  calendars: string[];
  /** The same calendars as one sentence: "every 14 minutes from 06:00 to 22:59, Monday to Friday, New York time". */
  calendarSentence: string;
  timeZone?: string;
  /** The next fires, ISO 8601 in UTC. */
  nextRuns: string[];
  /** The same instants on the schedule zone's wall clock: `Tue 2026-12-01 06:00 EST`. */
  nextRunsInZone: string[];
}

/** When the schedule fires: its calendars, its zone, and its next runs. */
export function whenItFires(description: ScheduleDescription): WhenItFires {
  const calendars = description.spec.calendars ?? [];
  const timeZone = description.spec.timezone || undefined;
  return {
    calendars: calendars.map(calendarText),
    calendarSentence: calendars.map((calendar) => calendarSentence(calendar, timeZone)).join('; '),
    ...(timeZone ? { timeZone } : {}),
    nextRuns: description.info.nextActionTimes.map((d) => d.toISOString()),
    nextRunsInZone: description.info.nextActionTimes.map((d) => formatInZone(d, timeZone)),
  };
}

/**
 * Fires the schedule now and returns the run it started: the one action that was not among `before`'s recent actions
 * (an overlap policy may skip a trigger, so a deadline bounds the wait).
 */
export async function triggerAndFindRun(
  client: Client,
  before: ScheduleDescription,
  timeoutMs: number,
): Promise<ScheduledRun> {
  const handle = client.schedule.getHandle(before.scheduleId);
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const fresh = (await handle.describe()).info.recentActions.find(
      (a) => !seen.has(a.action.workflow.firstExecutionRunId),
    );
    if (fresh) {
      const { workflowId, firstExecutionRunId: runId } = fresh.action.workflow;
      return { workflowId, runId, takenAt: fresh.takenAt };
    }
    if (Date.now() > deadlineMs)
      throw new Error(`schedule ${before.scheduleId} was triggered but started no run within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
