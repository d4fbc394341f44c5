import * as z from 'zod';
import { ErrorType } from '../../shared/errors';
import type { RemoteCallRef, StorageProgress } from '../platform';
import { ModalCommandError, ModalNotFoundError, ModalOutputError, ModalTransportError } from './modal-platform-errors';

/** What `control.py call-status` prints. */
export const CallStatus = z.discriminatedUnion('state', [
  z.object({ state: z.literal('running') }),
  z.object({ state: z.literal('done'), result: z.unknown() }),
  z.object({ state: z.literal('failed'), error: z.object({ type: z.string(), message: z.string() }) }),
  z.object({ state: z.literal('expired') }),
]);
export type CallStatus = z.infer<typeof CallStatus>;

/** The three control-plane operations on a function call (control.py through the real SDK in production). */
export interface CallControl {
  spawn(): Promise<string>;
  status(callId: string, waitSec: number): Promise<CallStatus>;
  cancel(callId: string): Promise<void>;
}

/** One long remote call: what to run, how to report it, and when to stop. */
export interface RemoteCallPlan {
  app: string;
  function: string;
  inputsHash: string;
  /** The step for messages (`download`, `compile`, ...). */
  stage: string;
  /** The failure type of a remote failure the error type names nothing more specific for. */
  failureType: ErrorType;
  /** How long the call may run in all (Modal's own timeout plus queueing): measured from its spawn. */
  limitMs: number;
  /** Gap between progress reports while the call runs (they become heartbeats). */
  progressEveryMs: number;
  /** How long one status poll may wait for the result on Modal's side. */
  pollWaitSec: number;
  /** Called before a spawn: e.g. deploy the ops app (idempotent). */
  beforeSpawn?: () => Promise<void>;
  onProgress?: (progress: StorageProgress) => void;
  signal?: AbortSignal;
  abortRemote?: AbortSignal;
  resumeFrom?: StorageProgress;
  log?: (message: string) => void;
}

/** Remote exception types (from huggingface_hub, the OS) that name a failure better than the step does. */
const REMOTE_ERROR_TYPES: Record<string, ErrorType> = {
  RepositoryNotFoundError: ErrorType.WeightsNotFound,
  RevisionNotFoundError: ErrorType.WeightsNotFound,
  GatedRepoError: ErrorType.WeightsNotFound,
  EntryNotFoundError: ErrorType.WeightsNotFound,
};

/**
 * Runs one spawned call to its end: re-attaches to the call a previous attempt started when its inputs match (the
 * call id travels in the heartbeat details), else spawns a new one and reports its id at once. While it runs,
 * reports progress (heartbeats) and polls its status. Stopping the wait (`signal`) leaves the call running for the
 * next attempt; only `abortRemote` (the rollout was aborted) cancels it on Modal.
 */
export async function runRemoteCall(control: CallControl, plan: RemoteCallPlan): Promise<unknown> {
  const idle = { stage: plan.stage, bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0, rateBytesPerSec: 0 };
  // Until a call runs (a first ops-app deploy builds images for minutes), keep heartbeating, and keep the previous
  // attempt's call in the details: an attempt that dies here must not lose it for the next one.
  const carried = plan.resumeFrom?.remoteCall;
  const preparing = setInterval(
    () => plan.onProgress?.({ ...idle, ...(carried ? { remoteCall: carried } : {}) }),
    plan.progressEveryMs,
  );
  let ref: RemoteCallRef;
  try {
    ref = (await reattach(control, plan)) ?? (await spawnNew(control, plan));
  } finally {
    clearInterval(preparing);
  }
  const base: StorageProgress = { ...idle, remoteCall: ref };
  plan.onProgress?.(base);
  const ticker = setInterval(() => plan.onProgress?.(base), plan.progressEveryMs);
  const deadline = Date.parse(ref.spawnedAt) + plan.limitMs;
  try {
    for (;;) {
      if (plan.signal?.aborted) break;
      const status = await control.status(ref.callId, plan.pollWaitSec);
      if (plan.signal?.aborted) break;
      if (status.state === 'done') return status.result;
      if (status.state === 'failed') throw remoteFailure(plan, ref, status.error);
      if (status.state === 'expired') {
        throw new ModalTransportError(
          `${plan.stage}: Modal no longer keeps the result of ${plan.function} call ${ref.callId}; retrying starts it again`,
        );
      }
      if (Date.now() > deadline) {
        throw new ModalCommandError(
          `${plan.stage}: ${plan.function} call ${ref.callId} still running ${Math.round(plan.limitMs / 60_000)} min after it was spawned`,
          plan.failureType,
        );
      }
      if (plan.pollWaitSec === 0) await sleep(Math.min(plan.progressEveryMs, 1_000), plan.signal);
    }
  } catch (err) {
    if (!plan.signal?.aborted) throw err;
  } finally {
    clearInterval(ticker);
  }
  return stopped(control, plan, ref);
}

/**
 * The wait was stopped. A rollout abort cancels the call (a compile holds 8 GPUs; a download of the wrong revision
 * is worth nothing); a timeout, a lost heartbeat or a worker shutdown leaves it running for the retry to re-attach.
 */
async function stopped(control: CallControl, plan: RemoteCallPlan, ref: RemoteCallRef): Promise<never> {
  if (plan.abortRemote?.aborted) {
    await control.cancel(ref.callId).catch((cancelErr: unknown) => {
      plan.log?.(
        `${plan.stage}: could not cancel ${ref.callId}: ${cancelErr instanceof Error ? cancelErr.message : String(cancelErr)}`,
      );
    });
    throw new ModalCommandError(
      `${plan.stage}: aborted; ${plan.function} call ${ref.callId} cancelled on Modal`,
      ErrorType.Aborted,
    );
  }
  throw new ModalTransportError(
    `${plan.stage}: stopped waiting for ${plan.function} call ${ref.callId}; it keeps running on Modal`,
  );
}

/** The previous attempt's call when it is for the same function and inputs and is still running or finished. */
async function reattach(control: CallControl, plan: RemoteCallPlan): Promise<RemoteCallRef | undefined> {
  const previous = plan.resumeFrom?.remoteCall;
  if (!previous || previous.function !== plan.function || previous.app !== plan.app) return undefined;
  if (previous.inputsHash !== plan.inputsHash) return undefined;
  let status: CallStatus;
  try {
    status = await control.status(previous.callId, 0);
  } catch (err) {
    if (err instanceof ModalNotFoundError) return undefined;
    throw err;
  }
  // A call that failed or whose result expired is what this retry is for: start again (the step is idempotent).
  if (status.state === 'running' || status.state === 'done') {
    plan.log?.(`${plan.stage}: re-attaching to ${plan.function} call ${previous.callId} (${status.state})`);
    return previous;
  }
  return undefined;
}

async function spawnNew(control: CallControl, plan: RemoteCallPlan): Promise<RemoteCallRef> {
  await plan.beforeSpawn?.();
  throwIfAborted(plan);
  const callId = await control.spawn();
  const ref: RemoteCallRef = {
    callId,
    function: plan.function,
    app: plan.app,
    spawnedAt: new Date().toISOString(),
    inputsHash: plan.inputsHash,
  };
  plan.log?.(`${plan.stage}: spawned ${plan.function} call ${callId} on ${plan.app}`);
  return ref;
}

function throwIfAborted(plan: RemoteCallPlan): void {
  if (plan.signal?.aborted) {
    throw new ModalCommandError(`${plan.stage}: stopped before ${plan.function} was spawned`, ErrorType.Aborted);
  }
}

function remoteFailure(plan: RemoteCallPlan, ref: RemoteCallRef, error: { type: string; message: string }): Error {
  const type = REMOTE_ERROR_TYPES[error.type] ?? plan.failureType;
  const failure = new ModalCommandError(
    `${plan.stage}: ${plan.function} (call ${ref.callId}) failed on Modal: ${error.type}: ${error.message}`,
    type,
  );
  failure.clientMessage = `${error.type}: ${error.message}`;
  return failure;
}

/** Parses a result the function returned as a JSON string (every ops function does). */
export function parseCallResult<T>(result: unknown, schema: z.ZodType<T>, what: string): T {
  let value: unknown = result;
  if (typeof result === 'string') {
    try {
      value = JSON.parse(result);
    } catch {
      throw new ModalOutputError(`${what} returned text that is not JSON: ${result.slice(0, 80)}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ModalOutputError(`${what} returned an unexpected result: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
