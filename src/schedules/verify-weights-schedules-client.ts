import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Spec } from '../spec/schema';
import { ErrorType } from '../shared/errors';
import type { VerifyWeightsResult } from '../shared/verify-weights-types';
import {
  createOrUpdateSchedule,
  deleteScheduleIfPresent,
  describeSchedule,
  newestRuns,
  triggerAndFindRun,
  whenItFires,
  type WhenItFires,
  type ScheduleChange,
} from './schedule-handles';
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
export interface VerifyScheduleStatus extends WhenItFires {
  scheduleId: string;
  isPaused: boolean;
  recent: VerifyRunReport[];
}

/** Creates the spec's verify schedule, or updates it in place (so `enable` is idempotent). */
export function enableVerifySchedule(
  client: Client,
  spec: Spec,
  options: { taskQueue: string },
): Promise<ScheduleChange> {
  return createOrUpdateSchedule(client, verifyWeightsSchedule(spec, options));
}

/** Deletes the app's verify schedule; throws {@link VerifyNotScheduledError} when there was none. */
export async function disableVerifySchedule(client: Client, app: string): Promise<string> {
  const scheduleId = verifyWeightsScheduleId(app);
  if (!(await deleteScheduleIfPresent(client, scheduleId))) throw new VerifyNotScheduledError(app);
  return scheduleId;
}

/** Describes the schedule and reads the outcome of its recent runs. */
export async function verifyScheduleStatus(
  client: Client,
  app: string,
  options: { recentLimit?: number } = {},
): Promise<VerifyScheduleStatus> {
  const description = await describeOrThrow(client, app);
  const recent = await Promise.all(
    newestRuns([description], options.recentLimit).map((run) =>
      runReport(client, run.workflowId, run.runId, run.takenAt),
    ),
  );
  return {
    scheduleId: description.scheduleId,
    isPaused: description.state.paused,
    ...whenItFires(description),
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
  const run = await triggerAndFindRun(client, await describeOrThrow(client, app), options.timeoutMs ?? 60_000);
  if (!options.shouldWait) {
    return { workflowId: run.workflowId, runId: run.runId, takenAt: run.takenAt.toISOString(), state: 'running' };
  }
  await client.workflow
    .getHandle(run.workflowId, run.runId)
    .result()
    .catch(() => undefined);
  return runReport(client, run.workflowId, run.runId, run.takenAt);
}

function describeOrThrow(client: Client, app: string) {
  return describeSchedule(client, verifyWeightsScheduleId(app), () => new VerifyNotScheduledError(app));
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
