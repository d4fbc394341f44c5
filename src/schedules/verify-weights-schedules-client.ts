import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowFailedError,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import type { Spec } from '../spec/schema';
import { ErrorType } from '../shared/errors';
import type { VerifyWeightsResult } from '../shared/verify-weights-types';
import { calendarText } from './calendar-text';
import { verifyWeightsSchedule, verifyWeightsScheduleId } from './verify-weights-schedule';

/** The app has no verify schedule. */
export class VerifyNotScheduledError extends Error {
  constructor(readonly app: string) {
    super(`no weights verify is scheduled for ${app}: create it with \`glm-ops verify-schedule enable SPEC\``);
    this.name = 'VerifyNotScheduledError';
  }
}

/** One recent verify run: verified, corrupt (the alert, with the files), failed otherwise, or still running. */
export interface VerifyRunReport {
  workflowId: string;
  runId: string;
  takenAt: string;
  state: 'verified' | 'corrupt' | 'failed' | 'running';
  detail?: string;
}

/** The `verify/<app>` schedule as the server holds it, with its recent runs. */
export interface VerifyScheduleStatus {
  scheduleId: string;
  isPaused: boolean;
  calendars: string[];
  timeZone?: string;
  nextRuns: string[];
  recent: VerifyRunReport[];
}

/** Creates the spec's verify schedule, or updates it in place (so `enable` is idempotent). */
export async function enableVerifySchedule(
  client: Client,
  spec: Spec,
  options: { taskQueue: string },
): Promise<{ scheduleId: string; change: 'created' | 'updated' }> {
  const schedule = verifyWeightsSchedule(spec, options);
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

/** Deletes the app's verify schedule; throws {@link VerifyNotScheduledError} when there was none. */
export async function disableVerifySchedule(client: Client, app: string): Promise<string> {
  const scheduleId = verifyWeightsScheduleId(app);
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return scheduleId;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new VerifyNotScheduledError(app);
    throw err;
  }
}

/** Describes the schedule and reads the outcome of its recent runs. */
export async function verifyScheduleStatus(
  client: Client,
  app: string,
  options: { recentLimit?: number } = {},
): Promise<VerifyScheduleStatus> {
  const description = await describeOrThrow(client, app);
  const actions = [...description.info.recentActions]
    .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime())
    .slice(0, options.recentLimit ?? 10);
  const recent = await Promise.all(
    actions.map((a) =>
      runReport(client, a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId, a.takenAt),
    ),
  );
  return {
    scheduleId: description.scheduleId,
    isPaused: description.state.paused,
    calendars: (description.spec.calendars ?? []).map(calendarText),
    ...(description.spec.timezone ? { timeZone: description.spec.timezone } : {}),
    nextRuns: description.info.nextActionTimes.map((d) => d.toISOString()),
    recent,
  };
}

/**
 * Fires the schedule now and, with `shouldWait`, waits for that run: the one action that was not among the recent
 * actions before the trigger. The run's failure (a mismatch) is returned as its report, not thrown.
 */
export async function triggerVerify(
  client: Client,
  app: string,
  options: { shouldWait?: boolean; timeoutMs?: number } = {},
): Promise<VerifyRunReport> {
  const handle = client.schedule.getHandle(verifyWeightsScheduleId(app));
  const before = new Set(
    (await describeOrThrow(client, app)).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId),
  );
  await handle.trigger();
  const deadlineMs = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const fresh = (await handle.describe()).info.recentActions.find(
      (a) => !before.has(a.action.workflow.firstExecutionRunId),
    );
    if (fresh) {
      const { workflowId, firstExecutionRunId: runId } = fresh.action.workflow;
      if (!options.shouldWait) return { workflowId, runId, takenAt: fresh.takenAt.toISOString(), state: 'running' };
      await client.workflow
        .getHandle(workflowId, runId)
        .result()
        .catch(() => undefined);
      return runReport(client, workflowId, runId, fresh.takenAt);
    }
    if (Date.now() > deadlineMs) {
      throw new Error(
        `schedule ${verifyWeightsScheduleId(app)} was triggered but started no run within ${options.timeoutMs ?? 60_000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function describeOrThrow(client: Client, app: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(verifyWeightsScheduleId(app)).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new VerifyNotScheduledError(app);
    throw err;
  }
}

async function runReport(client: Client, workflowId: string, runId: string, takenAt: Date): Promise<VerifyRunReport> {
  const base = { workflowId, runId, takenAt: takenAt.toISOString() };
  const handle = client.workflow.getHandle<(input: unknown) => Promise<VerifyWeightsResult>>(workflowId, runId);
  const described = await handle.describe().catch(() => undefined);
  if (described?.status.name === 'RUNNING') return { ...base, state: 'running' };
  try {
    const result = await handle.result();
    return { ...base, state: 'verified', detail: `${result.filesRehashed} files re-hashed, all match` };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    const type = (cause as { type?: string } | undefined)?.type;
    const detail = (cause?.message ?? (err as Error).message).split('\n')[0];
    return { ...base, state: type === ErrorType.WeightsCorrupt ? 'corrupt' : 'failed', ...(detail ? { detail } : {}) };
  }
}
