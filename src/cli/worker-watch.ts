import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { describePollers, type TaskQueueService } from './task-queue-pollers';

const { PendingActivityState, PendingWorkflowTaskState } = temporal.api.enums.v1;

/** Which queue the workflow's tasks wait on, and what to tell the user to run. */
export interface WorkerWatchTarget {
  taskQueue: string;
  namespace: string;
  /** The command that brings a worker back (`glm-ops worker --task-queue …`, or `glm-ops dev up`). */
  fix: string;
}

/** A change the watch reports: a task started waiting for a worker, or a worker picked it up again. */
export interface WorkerWatchChange {
  isWaiting: boolean;
  line: string;
}

/** A running watch; stop it when the workflow's result is in. */
export interface WorkerWatch {
  stop(): Promise<void>;
}

/** A task of the workflow that is scheduled but no worker has started. */
interface UnstartedTask {
  what: string;
  scheduledAtMs: number;
}

type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

function timestampMs(ts: Timestamp): number | undefined {
  if (!ts) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : (ts.seconds?.toNumber() ?? 0);
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** The longest-waiting task that no worker has picked up, from a describe (pure, for its unit test). */
export function oldestUnstartedTask(
  description: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse,
  nowMs: number,
): UnstartedTask | undefined {
  const tasks: UnstartedTask[] = [];
  const workflowTask = description.pendingWorkflowTask;
  if (workflowTask?.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED) {
    const at = timestampMs(workflowTask.originalScheduledTime) ?? timestampMs(workflowTask.scheduledTime);
    if (at !== undefined) tasks.push({ what: 'the next workflow task', scheduledAtMs: at });
  }
  for (const activity of description.pendingActivities ?? []) {
    if (activity.state !== PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED) continue;
    const at = timestampMs(activity.scheduledTime);
    // A retry waiting out its backoff is scheduled in the future: nobody is late yet.
    if (at === undefined || at > nowMs) continue;
    const attempt = activity.attempt && activity.attempt > 1 ? ` (attempt ${activity.attempt})` : '';
    tasks.push({ what: `activity ${activity.activityType?.name ?? '?'}${attempt}`, scheduledAtMs: at });
  }
  return tasks.sort((a, b) => a.scheduledAtMs - b.scheduledAtMs)[0];
}

/** Statuses only a worker's workflow task can produce (terminate and time-out need none). */
const CLOSED_BY_A_WORKER = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'CONTINUED_AS_NEW']);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Watches a running workflow for tasks that no worker picks up (every worker gone, or none ever started on this
 * queue) and reports it in one line instead of waiting in silence; reports again when a worker takes over.
 */
export function watchForWorker(
  service: TaskQueueService,
  handle: WorkflowHandle,
  target: WorkerWatchTarget,
  onChange: (change: WorkerWatchChange) => void,
  options: { thresholdMs?: number; intervalMs?: number } = {},
): WorkerWatch {
  const thresholdMs = options.thresholdMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 1_000;
  const controller = new AbortController();
  let isWaiting = false;
  const pickedUp = (): WorkerWatchChange => ({
    isWaiting: false,
    line: `a worker on ${target.taskQueue} picked the rollout up again`,
  });
  const loop = (async () => {
    for (;;) {
      const description = await handle.describe().catch(() => undefined);
      const status = description?.status.name;
      if (controller.signal.aborted || (status && status !== 'RUNNING' && status !== 'PAUSED')) {
        // The result is in: if it came after a wait, a worker closed the workflow (unless it was terminated).
        if (isWaiting && status && CLOSED_BY_A_WORKER.has(status)) onChange(pickedUp());
        return;
      }
      const task = description ? oldestUnstartedTask(description.raw, Date.now()) : undefined;
      const waitedMs = task ? Date.now() - task.scheduledAtMs : 0;
      if (task && waitedMs >= thresholdMs && !isWaiting) {
        isWaiting = true;
        const seen = await pollerNote(service, target).catch(() => '');
        onChange({
          isWaiting: true,
          line: `waiting for a worker on ${target.taskQueue} in namespace ${target.namespace}: ${task.what} has waited ${Math.round(waitedMs / 1000)} s${seen}; start one with \`${target.fix}\``,
        });
      } else if (!task && isWaiting && description) {
        isWaiting = false;
        onChange(pickedUp());
      }
      await sleep(intervalMs, controller.signal);
    }
  })();
  return {
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

/** What the server saw of the queue's pollers, since a worker killed moments ago stays listed for a while. */
async function pollerNote(service: TaskQueueService, target: WorkerWatchTarget): Promise<string> {
  const { workflow, activity } = await describePollers(service, target.namespace, target.taskQueue);
  const all = [...workflow, ...activity];
  if (all.length === 0) return ' (no worker polls the queue)';
  const lastMs = Math.max(...all.map((p) => timestampMs(p.lastAccessTime) ?? 0));
  const identities = new Set(all.map((p) => p.identity).filter(Boolean));
  return ` (last poll ${Math.max(0, Math.round((Date.now() - lastMs) / 1000))} s ago, by ${[...identities].join(', ')})`;
}
