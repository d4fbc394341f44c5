import { InvalidArgumentError } from 'commander';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TemporalConnectConfig } from '../config/temporal-connection';
import type { HealthWaitProgress, RolloutInput, RolloutResult } from '../shared/rollout-types';
import { failureCause } from './failure-cause';
import { resultThroughOutages } from './result-through-outages';
import { followRollout } from './rollout-progress';
import { printRolloutFailure, printRolloutReport } from './rollout-report';
import { startWorkerCommand } from './task-queue-pollers';
import { watchForWorker } from './worker-watch';

/**
 * Exit codes of the rollout commands: 0 succeeded, 1 failed (compensated), 2 bad input or not ready (no worker, no
 * such namespace, missing credentials), 3 refused, 4 state unknown (`--wait` lost the Temporal server for longer than
 * `--reconnect-timeout`: the rollout is still running as far as anyone knows).
 */
export const EXIT = { succeeded: 0, failed: 1, badInput: 2, refused: 3, unknown: 4 } as const;

export type RolloutExitCode = (typeof EXIT)[keyof typeof EXIT];

/** How long `--wait`, `--follow` and `status --watch` ride out a lost Temporal server by default. */
export const DEFAULT_RECONNECT_TIMEOUT_SEC = 300;

/** `--reconnect-timeout` of the commands that wait for a rollout. */
export function parseReconnectTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new InvalidArgumentError(`--reconnect-timeout "${value}" must be a number of seconds >= 0`);
  return seconds;
}

export interface RolloutEndOptions {
  app: string;
  taskQueue: string;
  /** The live task list (on a terminal; one line per finished step otherwise); without it only the result. */
  isLive: boolean;
  reconnectTimeoutSec: number;
  /** The spec's `health.startupTimeout`, for the live health line's budget. */
  startupTimeoutSec?: number;
}

/**
 * Waits for a rollout to end and prints its report: the live view when asked, a lost Temporal server ridden out
 * (a running rollout is never reported as failed), a missing worker said while it is missing. Shared by `rollout
 * --wait/--follow` and `status --watch`, which attaches to a rollout started elsewhere. Returns the exit code.
 */
export async function waitForRolloutEnd(
  client: Client,
  config: TemporalConnectConfig,
  handle: WorkflowHandle,
  options: RolloutEndOptions,
): Promise<RolloutExitCode> {
  // Inside the live task list on a terminal; as its own line otherwise, so logs show it too.
  const isInline = options.isLive && Boolean(process.stdout.isTTY);
  let notice: string | undefined;
  const watch = watchForWorker(
    client.workflowService,
    handle,
    {
      taskQueue: options.taskQueue,
      namespace: config.namespace,
      fix: config.source === 'embedded' ? 'glm-ops dev up' : startWorkerCommand(options.taskQueue),
    },
    (change) => {
      notice = change.isWaiting ? change.line : undefined;
      if (!isInline) console.log(change.line);
    },
  );
  let outage: string | undefined;
  const outcome = resultThroughOutages<RolloutResult>(handle, {
    address: config.connectionOptions.address,
    reconnectForMs: options.reconnectTimeoutSec * 1000,
    onLine: (line, isLost) => {
      outage = isLost ? line : undefined;
      if (!isInline) console.log(line);
    },
  });
  try {
    const last = options.isLive
      ? await followRollout(handle, {
          notice: () => outage ?? notice,
          ended: outcome,
          ...(options.startupTimeoutSec ? { startupTimeoutSec: options.startupTimeoutSec } : {}),
        })
      : undefined;
    const ended = await outcome;
    if (ended.kind === 'completed') {
      printRolloutReport(ended.result);
      return EXIT.succeeded;
    }
    if (ended.kind === 'failed') {
      printRolloutFailure(failureCause(ended.error).failure, last);
      return EXIT.failed;
    }
    console.error(
      `rollout state unknown: still running as far as we know (${ended.reason}); follow it with \`glm-ops status ${options.app} --watch\` or \`temporal workflow describe --workflow-id ${handle.workflowId}\` once the server answers`,
    );
    return EXIT.unknown;
  } finally {
    await watch.stop();
  }
}

/** The live /health attempt: the pending health wait's heartbeat (the status query only knows finished waits). */
export async function pendingHealthAttempt(handle: WorkflowHandle): Promise<number | undefined> {
  const description = await handle.describe();
  for (const pending of description.raw.pendingActivities ?? []) {
    if (pending.activityType?.name !== 'waitForHealth') continue;
    const payload = pending.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const details = defaultPayloadConverter.fromPayload<Partial<HealthWaitProgress>>(payload);
    return details.attempt;
  }
  return undefined;
}

/**
 * The spec's startup timeout, read from the rollout's first history event (its input): one event, not the history,
 * so attaching to a long rollout stays cheap. Undefined when the history cannot be read.
 */
export async function rolloutStartupTimeoutSec(
  client: Client,
  namespace: string,
  execution: { workflowId: string; runId: string },
): Promise<number | undefined> {
  const page = await client.workflowService
    .getWorkflowExecutionHistory({ namespace, execution, maximumPageSize: 1 })
    .catch(() => undefined);
  const payload = page?.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return undefined;
  try {
    const input = defaultPayloadConverter.fromPayload<Partial<RolloutInput>>(payload);
    const seconds = input.spec?.health?.startupTimeout;
    return typeof seconds === 'number' ? seconds : undefined;
  } catch {
    return undefined;
  }
}
