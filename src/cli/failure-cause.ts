import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/common';

/** What a workflow or activity recorded as the reason it failed, as the CLI prints it. */
export interface FailureCause {
  /** The recorded message (the activity's or the workflow's own words, never the SDK's wrapper text). */
  message: string;
  /** The failure's type: an `ErrorType` for our failures, `Timeout`/`Terminated`/`Cancelled` for Temporal's own. */
  type?: string;
  /** The step that failed, when an activity or a child workflow did: `rollbackTo`, `rollout`. */
  step?: string;
  /** The ApplicationFailure itself (its details carry the rollout status), when there was one. */
  failure?: ApplicationFailure;
}

/** How deep a cause chain is followed; ours are at most four links (workflow → child → activity → application). */
const MAX_DEPTH = 8;

/**
 * Walks a failure's cause chain (WorkflowFailedError → ChildWorkflowFailure / ActivityFailure → ApplicationFailure)
 * to the first failure something of ours recorded, and returns its message and type. The wrappers' own messages
 * ("Workflow execution failed", "Activity task failed", "Child Workflow execution failed") say only where a failure
 * passed through; the step they name is kept. A timeout, termination or cancellation is said as such.
 */
export function failureCause(err: unknown): FailureCause {
  let step: string | undefined;
  let last: unknown = err;
  for (let e: unknown = err, depth = 0; e && depth < MAX_DEPTH; e = (e as { cause?: unknown }).cause, depth += 1) {
    last = e;
    if (e instanceof ApplicationFailure) {
      return { message: e.message, ...(e.type ? { type: e.type } : {}), ...(step ? { step } : {}), failure: e };
    }
    if (e instanceof ActivityFailure) step = e.activityType;
    else if (e instanceof ChildWorkflowFailure) step = e.workflowType;
    else if (e instanceof TimeoutFailure) {
      return { message: `${step ?? 'the workflow'} timed out (${e.timeoutType})`, type: 'Timeout', ...stepOf(step) };
    } else if (e instanceof TerminatedFailure) {
      return { message: `${step ?? 'the workflow'} was terminated`, type: 'Terminated', ...stepOf(step) };
    } else if (e instanceof CancelledFailure) {
      return { message: `${step ?? 'the workflow'} was cancelled`, type: 'Cancelled', ...stepOf(step) };
    }
  }
  return { message: last instanceof Error ? last.message : String(last), ...stepOf(step) };
}

function stepOf(step: string | undefined): { step?: string } {
  return step ? { step } : {};
}

/** One line (the first of the recorded message) for a CLI error: `rollback failed: app "x" has no version 99 (…)`. */
export function describeFailureCause(err: unknown): string {
  return failureCause(err).message.split('\n')[0]!;
}
