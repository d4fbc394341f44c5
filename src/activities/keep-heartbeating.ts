import { Context } from '@temporalio/activity';

/** How often a step heartbeats while it waits on a call: well inside the shortest heartbeat timeout (10 s). */
export const KEEP_ALIVE_INTERVAL_MS = 2_000;

/**
 * The worker's `maxHeartbeatThrottleInterval`: how long the SDK may hold the newest heartbeat back before sending it
 * to the server. Without it the SDK waits 80 % of the heartbeat timeout (16 s of our 20 s), so what the server shows
 * of a running step (the live line of `rollout --follow` and `status --watch`: bytes, rate, ETA, the /health
 * attempt) lags by up to 16 s, and a step shorter than that shows only its start. Every worker sets it.
 */
export const HEARTBEAT_SEND_INTERVAL = '2 seconds';

/** How a heartbeating step reacts when its activity is cancelled. */
export interface KeepHeartbeatingOptions {
  /**
   * `end`: the activity ends at once with the cancellation (the SDK's CancelledFailure), whatever `body` is doing; its
   * signal tells it to stop. `finish`: `body` runs to its end (a deploy the platform must not leave half done; a
   * retry waits for it); it still gets the signal. @default 'end'
   */
  onCancel?: 'end' | 'finish';
  /** What each heartbeat carries (read again for every beat). @default nothing */
  details?: () => unknown;
  /** @default KEEP_ALIVE_INTERVAL_MS */
  intervalMs?: number;
}

/**
 * Runs `body` while the activity heartbeats every couple of seconds, so a worker that died is noticed within the
 * activity's heartbeat timeout (and a retry starts elsewhere) instead of after its start-to-close timeout, and so a
 * cancellation reaches the activity at all: the SDK delivers cancellations only to activities that heartbeat.
 * `body` gets the activity's cancellation signal (fired for an abort, a timeout the server saw, a worker shutdown).
 */
export async function keepHeartbeating<T>(
  body: (signal: AbortSignal) => Promise<T>,
  options: KeepHeartbeatingOptions = {},
): Promise<T> {
  // Captured here: the interval's callbacks run outside the activity's async context.
  const context = Context.current();
  const beat = (): void => context.heartbeat(options.details?.());
  beat();
  const keepAlive = setInterval(beat, options.intervalMs ?? KEEP_ALIVE_INTERVAL_MS);
  try {
    const running = body(context.cancellationSignal);
    if (options.onCancel === 'finish') return await running;
    return await Promise.race([running, context.cancelled]);
  } finally {
    clearInterval(keepAlive);
  }
}
