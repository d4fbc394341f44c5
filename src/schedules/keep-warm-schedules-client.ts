import { ScheduleNotFoundError, WorkflowFailedError, type Client, type ScheduleDescription } from '@temporalio/client';
import * as z from 'zod';
import type { Spec } from '../spec/schema';
import type { KeepWarmResult } from '../shared/keep-warm-types';
import { readStoredKeepWarmCost, type StoredKeepWarmCost } from './keep-warm-cost';
import { keepWarmReleaseScheduleId, keepWarmScheduleId, keepWarmSchedules } from './keep-warm-schedule';
import {
  createOrUpdateSchedule,
  deleteScheduleIfPresent,
  describeSchedule,
  describeScheduleIfPresent,
  newestRuns,
  triggerAndFindRun,
  whenItFires,
  type WhenItFires,
} from './schedule-handles';

/** What `enable` did to each schedule. */
export interface EnableOutcome {
  scheduleId: string;
  change: 'created' | 'updated' | 'deleted';
}

/** One recent keep-warm run as `status` shows it. */
export interface KeepWarmRunReport {
  workflowId: string;
  runId: string;
  takenAt: string;
  state: 'warm' | 'cold' | 'released' | 'failed' | 'running';
  durationMs?: number;
  detail?: string;
}

/** The state of an app's keep-warm schedule, read back from the server. */
export interface KeepWarmStatus extends WhenItFires {
  scheduleId: string;
  isPaused: boolean;
  note?: string;
  /** The strategy the schedule runs: its action's input, which `enable` rewrites on every update. */
  strategy?: 'ping' | 'pin';
  /** The cost `enable` priced and stored in the schedule's action memo (undefined for a schedule enabled before). */
  storedCost?: StoredKeepWarmCost;
  numActionsTaken: number;
  recent: KeepWarmRunReport[];
  /** Cold pings / all finished pings among the recent runs; undefined when there are none. */
  coldHitRate?: number;
  hasReleaseSchedule: boolean;
}

/** The app has no keep-warm schedule. */
export class KeepWarmNotEnabledError extends Error {
  constructor(readonly app: string) {
    super(`keep-warm is not enabled for ${app}: enable it with \`glm-ops keepwarm enable SPEC\``);
    this.name = 'KeepWarmNotEnabledError';
  }
}

/**
 * Creates the keep-warm schedules of a spec, or updates them in place when they exist (so `enable` is idempotent), and
 * deletes a `pin` release schedule left over after switching to `ping`.
 */
export async function enableKeepWarm(
  client: Client,
  spec: Spec,
  options: { taskQueue: string; cost?: StoredKeepWarmCost },
): Promise<EnableOutcome[]> {
  const wanted = keepWarmSchedules(spec, options);
  const outcomes: EnableOutcome[] = [];
  for (const schedule of wanted) outcomes.push(await createOrUpdateSchedule(client, schedule));
  if (!wanted.some((s) => s.scheduleId === keepWarmReleaseScheduleId(spec.app))) {
    if (await deleteScheduleIfPresent(client, keepWarmReleaseScheduleId(spec.app))) {
      outcomes.push({ scheduleId: keepWarmReleaseScheduleId(spec.app), change: 'deleted' });
    }
  }
  return outcomes;
}

/** Deletes the app's keep-warm schedules; returns the ids deleted; throws when there was none. */
export async function disableKeepWarm(client: Client, app: string): Promise<string[]> {
  const deleted: string[] = [];
  for (const id of [keepWarmScheduleId(app), keepWarmReleaseScheduleId(app)]) {
    if (await deleteScheduleIfPresent(client, id)) deleted.push(id);
  }
  if (deleted.length === 0) throw new KeepWarmNotEnabledError(app);
  return deleted;
}

/** Pauses or unpauses every keep-warm schedule of the app, with a note the UI shows. */
export async function setKeepWarmPaused(
  client: Client,
  app: string,
  isPaused: boolean,
  note: string,
): Promise<string[]> {
  const changed: string[] = [];
  for (const id of [keepWarmScheduleId(app), keepWarmReleaseScheduleId(app)]) {
    const handle = client.schedule.getHandle(id);
    try {
      if (isPaused) await handle.pause(note);
      else await handle.unpause(note);
      changed.push(id);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  if (changed.length === 0) throw new KeepWarmNotEnabledError(app);
  return changed;
}

/** Describes the schedule and reads the results of its recent runs. */
export async function keepWarmStatus(
  client: Client,
  app: string,
  options: { recentLimit?: number } = {},
): Promise<KeepWarmStatus> {
  const description = await describeOrThrow(client, keepWarmScheduleId(app), app);
  const release = await describeScheduleIfPresent(client, keepWarmReleaseScheduleId(app));
  const recent = await Promise.all(
    newestRuns(release ? [description, release] : [description], options.recentLimit).map((run) =>
      runReport(client, run.workflowId, run.runId, run.takenAt),
    ),
  );
  const pings = recent.filter((r) => r.state === 'warm' || r.state === 'cold');
  return {
    scheduleId: description.scheduleId,
    isPaused: description.state.paused,
    ...(description.state.note ? { note: description.state.note } : {}),
    ...whenItFires(description),
    ...actionFacts(description),
    numActionsTaken: description.info.numActionsTaken,
    recent,
    ...(pings.length > 0 ? { coldHitRate: pings.filter((p) => p.state === 'cold').length / pings.length } : {}),
    hasReleaseSchedule: release !== undefined,
  };
}

const KeepWarmAction = z.object({ strategy: z.enum(['ping', 'pin']) });

/** What the schedule's action records: the strategy its runs get, and the cost `enable` stored beside it. */
function actionFacts(description: ScheduleDescription): Pick<KeepWarmStatus, 'strategy' | 'storedCost'> {
  if (description.action.type !== 'startWorkflow') return {};
  const input = KeepWarmAction.safeParse(description.action.args?.[0]);
  const storedCost = readStoredKeepWarmCost(description.action.memo);
  return { ...(input.success ? { strategy: input.data.strategy } : {}), ...(storedCost ? { storedCost } : {}) };
}

function describeOrThrow(client: Client, scheduleId: string, app: string) {
  return describeSchedule(client, scheduleId, () => new KeepWarmNotEnabledError(app));
}

async function runReport(client: Client, workflowId: string, runId: string, takenAt: Date): Promise<KeepWarmRunReport> {
  const base = { workflowId, runId, takenAt: takenAt.toISOString() };
  const handle = client.workflow.getHandle<(input: unknown) => Promise<KeepWarmResult>>(workflowId, runId);
  const described = await handle.describe().catch(() => undefined);
  if (described && described.status.name === 'RUNNING') return { ...base, state: 'running' };
  try {
    const result = await handle.result();
    return { ...base, state: result.replica, durationMs: result.durationMs };
  } catch (err) {
    const detail = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    return { ...base, state: 'failed', detail: detail.split('\n')[0] };
  }
}

/**
 * Triggers the schedule now and, with `shouldWait`, waits for that run's result: the run is the one action that was
 * not in recentActions before the trigger.
 */
export async function triggerKeepWarm(
  client: Client,
  app: string,
  options: { scheduleId?: string; shouldWait?: boolean; timeoutMs?: number } = {},
): Promise<{ workflowId: string; runId: string; result?: KeepWarmResult }> {
  const scheduleId = options.scheduleId ?? keepWarmScheduleId(app);
  const run = await triggerAndFindRun(
    client,
    await describeOrThrow(client, scheduleId, app),
    options.timeoutMs ?? 30_000,
  );
  if (!options.shouldWait) return { workflowId: run.workflowId, runId: run.runId };
  const result = await client.workflow
    .getHandle<(input: unknown) => Promise<KeepWarmResult>>(run.workflowId, run.runId)
    .result();
  return { workflowId: run.workflowId, runId: run.runId, result };
}
