import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../shared/errors';

/**
 * The timeout and retry profiles of every activity call the workflows make, in one place, so a step's patience is
 * decided once. Which failure types are worth a retry is decided in shared/errors.ts; these only say how often and
 * how long.
 */

/** Backoff shared by every profile that retries; failures no retry can fix stop at once. */
const backoff = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};

/**
 * How long the server waits for a heartbeat before it declares an attempt lost and retries it elsewhere: the time a
 * dead worker costs a step. Every step that can run longer than a few seconds heartbeats every 2 s (the SDK sends at
 * most one beat per 80 % of this), so 20 s is several missed beats, not a slow moment.
 */
const LOST_WORKER_AFTER = '20 seconds';

/** `profile` with another number of attempts: the profiles below that differ from their base only in that. */
function withAttempts<P extends { retry: { maximumAttempts: number } }>(profile: P, maximumAttempts: number): P {
  return { ...profile, retry: { ...profile.retry, maximumAttempts } };
}

/**
 * A long step that heartbeats: a lost worker is noticed after LOST_WORKER_AFTER, not at `startToCloseTimeout`. An abort
 * waits until the activity has seen it: only a cancellation it sees as requested stops the remote call (a compile
 * holds 8 GPUs, a deploy in flight must stop before the compensation rolls back rather than race it), and a workflow
 * that closed first would leave the activity a "not found" instead.
 */
function heartbeating(startToCloseTimeout: string, maximumAttempts: number) {
  return {
    startToCloseTimeout,
    heartbeatTimeout: LOST_WORKER_AFTER,
    retry: { ...backoff, maximumAttempts },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}

/** Control-plane calls: quick, retried with backoff on transport errors. */
export const quickIo = {
  startToCloseTimeout: '2 minutes',
  retry: { ...backoff, maximumAttempts: 6 },
} satisfies ActivityOptions;

/**
 * The way back (roll back, stop, verify): it must outlive a platform outage (a daemon killed and restarted, Modal
 * unreachable), so it keeps retrying for four and a half minutes of backoff where a forward step gives up after half of one.
 */
export const compensation = withAttempts(quickIo, 14) satisfies ActivityOptions;

/** The diagnosis after a failure: a report, not a step; one retry, then the failure is reported without it. */
export const diagnosis = withAttempts(quickIo, 2) satisfies ActivityOptions;

/**
 * Downloads: long, heartbeating, resumable; a retry continues where the last attempt stopped (on Modal it re-attaches
 * to the remote call named in the heartbeat details). A short heartbeat timeout: a dead worker is noticed in seconds,
 * not after the 12-hour limit.
 */
export const longStorage = heartbeating('12 hours', 8) satisfies ActivityOptions;

/** A DeepGEMM compile: as long as a download, but a compile that failed twice needs a person, not a third try. */
export const compile = withAttempts(longStorage, 2) satisfies ActivityOptions;

/**
 * Deploys and volume commits: a first Modal deploy builds images and creates functions for many minutes, and a commit
 * is a remote call; both heartbeat, and a retry waits for a deploy still in flight instead of starting a second (the
 * platforms key a deploy by its rollout id: the local daemon returns the version that id created, Modal finds the
 * history entry tagged with it and serializes deploys of an app).
 */
export const remoteControl = heartbeating('45 minutes', 4) satisfies ActivityOptions;

/**
 * The /health wait, bounded by the version's startup timeout (plus what the platform adds before the engine starts).
 * A retry resumes the attempt count and the polling time used from the heartbeat (a gap while no worker could reach
 * the server is not charged; the activity's hard limit is the budget plus at most as much again, 10 minutes or more,
 * since the wait began), so attempts only decide how many lost workers or transport failures the wait survives, never
 * how long it polls: five, the same for a new version and for a restored one.
 */
export function healthWait(startupTimeoutSec: number, marginSec = 0): ActivityOptions {
  return {
    startToCloseTimeout: `${Math.ceil(startupTimeoutSec) + marginSec + 120} seconds`,
    // Not shorter than the others: the SDK holds beats back for 80 % of this, so at 10 s a starved worker (a load of
    // 25 on 2 cores) missed its 2 s of slack and a healthy wait was declared lost.
    heartbeatTimeout: LOST_WORKER_AFTER,
    retry: { ...backoff, maximumAttempts: 5 },
  };
}

/**
 * Probes of the endpoint (warmup, smoke): bounded by the spec's warmup timeout; a failed probe is retried once. They
 * heartbeat, so a lost worker costs 20 s rather than the whole timeout (11 minutes at `warmup.timeout: 600`).
 */
export function endpointCheck(timeoutSec: number): ActivityOptions {
  return {
    startToCloseTimeout: `${Math.ceil(timeoutSec) + 60} seconds`,
    heartbeatTimeout: LOST_WORKER_AFTER,
    retry: { ...backoff, maximumAttempts: 2 },
  };
}

/**
 * The performance gate's measurement: as long as the spec's load takes (an hour covers any sensible gate), beyond
 * the warmup's own budget; it heartbeats, so a lost worker costs 20 s, and a measurement is repeated once at most.
 */
export function performanceMeasure(warmupTimeoutSec: number): ActivityOptions {
  return {
    startToCloseTimeout: `${Math.ceil(warmupTimeoutSec) + 3600} seconds`,
    heartbeatTimeout: LOST_WORKER_AFTER,
    retry: { ...backoff, maximumAttempts: 2 },
  };
}

/** The control-plane calls of a keep-warm fire: shorter and fewer than `quickIo`, so a fire ends well before the next. */
export const scheduledIo = {
  startToCloseTimeout: '1 minute',
  retry: { ...backoff, maximumAttempts: 4 },
} satisfies ActivityOptions;

/** One attempt only: a retried ping would measure a replica the first attempt already woke, and report it warm. */
export function singlePing(timeoutSec: number): ActivityOptions {
  return { startToCloseTimeout: `${timeoutSec + 30} seconds`, retry: { maximumAttempts: 1 } };
}

/** The stack check's one question to a worker: if no worker answers in three tries, the stack is not up. */
export const workerQuestion = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
} satisfies ActivityOptions;

/**
 * A notification's POST: a receiver that is down is retried with backoff (up to 5 minutes apart) for an hour in all,
 * then given up; a refusal (4xx) is final. The run the event is about never waits for it (see notify-events.ts).
 */
export const notification = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { ...backoff, maximumInterval: '5 minutes' },
} satisfies ActivityOptions;
