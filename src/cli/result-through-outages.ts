import {
  isGrpcServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';

/** How a followed workflow ended, as far as the CLI could tell. */
export type FollowedOutcome<T> =
  | { kind: 'completed'; result: T }
  | { kind: 'failed'; error: WorkflowFailedError }
  /** The server stayed unreachable (or forgot the workflow): the workflow may well still be running. */
  | { kind: 'unknown'; reason: string };

/** How long and how patiently to ride out a lost Temporal server. */
export interface OutagePolicy {
  /** Where the server was (named in every line). */
  address: string;
  /** Longest outage to wait through before giving up with `unknown`. */
  reconnectForMs: number;
  /** A line for the user: the server was lost, or is back. */
  onLine(line: string, isLost: boolean): void;
  /** First pause between reconnect attempts; doubles up to `maxBackoffMs`. @default 500 */
  initialBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
}

/** gRPC status codes of transport failures (the server is down, restarting or unreachable): UNAVAILABLE, DEADLINE_EXCEEDED. */
const TRANSPORT_CODES = new Set<number>([14, 4]);
const TRANSPORT_MESSAGE =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|connection refused|Connection dropped|No connection established/i;

/**
 * True when an error from the client means the server could not be reached (gRPC UNAVAILABLE or a deadline on a dead
 * connection, or a socket error), looking through the causes the client wraps it in ("Failed to get Workflow
 * execution history").
 */
export function isServerUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (isGrpcServiceError(e) && TRANSPORT_CODES.has(e.code)) return true;
    if (e instanceof Error && TRANSPORT_MESSAGE.test(e.message)) return true;
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits for a workflow's result through Temporal server restarts: on a transport error it says the server was lost,
 * retries with backoff (the connection reconnects by itself once the server answers), says when it is back, and keeps
 * waiting. A running workflow is never reported as failed: only the workflow's own failure is `failed`; an outage
 * longer than `reconnectForMs` (or a server that came back without the workflow) is `unknown`.
 */
export async function resultThroughOutages<T>(
  handle: WorkflowHandle,
  policy: OutagePolicy,
): Promise<FollowedOutcome<T>> {
  const initialMs = policy.initialBackoffMs ?? 500;
  const maxMs = policy.maxBackoffMs ?? 5_000;
  for (;;) {
    try {
      return { kind: 'completed', result: (await handle.result()) as T };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { kind: 'failed', error: err };
      if (!isServerUnreachable(err)) throw err;
    }
    const lostAtMs = Date.now();
    policy.onLine(`lost the Temporal server at ${policy.address}, reconnecting…`, true);
    const back = await reconnect(handle, lostAtMs, policy.reconnectForMs, initialMs, maxMs);
    if (back.kind === 'unknown') return back;
    policy.onLine(
      `reconnected to the Temporal server at ${policy.address} after ${Math.round((Date.now() - lostAtMs) / 1000)} s; following the workflow again`,
      false,
    );
  }
}

/** Asks the server about the workflow until it answers (back), forgets it, or the outage outlasts the limit. */
async function reconnect(
  handle: WorkflowHandle,
  lostAtMs: number,
  reconnectForMs: number,
  initialMs: number,
  maxMs: number,
): Promise<{ kind: 'back' } | { kind: 'unknown'; reason: string }> {
  let backoffMs = initialMs;
  let lastError = '';
  while (Date.now() - lostAtMs < reconnectForMs) {
    await sleep(Math.min(backoffMs, Math.max(0, lostAtMs + reconnectForMs - Date.now())));
    backoffMs = Math.min(backoffMs * 2, maxMs);
    try {
      await handle.describe();
      return { kind: 'back' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        return {
          kind: 'unknown',
          reason: `the server came back without workflow ${handle.workflowId} (a server that keeps its state in memory was restarted?)`,
        };
      }
      if (!isServerUnreachable(err)) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  return {
    kind: 'unknown',
    reason: `the Temporal server did not answer for ${Math.round(reconnectForMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`,
  };
}
