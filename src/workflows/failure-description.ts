import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../shared/errors';

/** What ended a step, in the vocabulary of shared/errors.ts. */
export interface FailureDescription {
  type: string;
  message: string;
}

/**
 * The failure type and message of whatever ended the work: an abort, an activity's ApplicationFailure, an activity
 * that timed out or was cancelled (no type of its own: a transport matter), or a failure thrown by workflow code.
 */
export function describeFailure(err: unknown, abort?: { reason?: string }): FailureDescription {
  if (abort) return { type: ErrorType.Aborted, message: `aborted: ${abort.reason ?? 'the workflow was cancelled'}` };
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { type: err.cause.type ?? ErrorType.TransportError, message: err.cause.message };
  }
  if (err instanceof ActivityFailure) {
    return { type: ErrorType.TransportError, message: err.cause?.message ?? err.message };
  }
  if (err instanceof ApplicationFailure) return { type: err.type ?? ErrorType.TransportError, message: err.message };
  return { type: ErrorType.TransportError, message: err instanceof Error ? err.message : String(err) };
}

/** What the diagnosis reads besides the engine logs: the symptoms the failed step recorded. */
export interface Symptoms {
  probeOutcomes?: string[];
  smokeFailures?: string[];
  warmupFailures?: string[];
}

/** The symptoms a failed step recorded in its failure details (probe outcomes, failed smoke tests or warmups). */
export function symptomsOf(err: unknown): Symptoms {
  const details = applicationDetails(err);
  if (!details) return {};
  if (details.type === ErrorType.SmokeTestFailed) {
    return { smokeFailures: (details.results ?? []).filter((r) => r.passed === false).map((r) => r.name) };
  }
  if (details.type === ErrorType.WarmupFailed) {
    return { warmupFailures: (details.results ?? []).filter((r) => r.ok === false).map((r) => r.name) };
  }
  return details.outcomes ? { probeOutcomes: Object.keys(details.outcomes) } : {};
}

/** The /health attempt a failed health wait gave up on, when its failure details carry one. */
export function healthAttemptOf(err: unknown): number | undefined {
  const attempt = applicationDetails(err)?.attempt;
  return typeof attempt === 'number' ? attempt : undefined;
}

/** The first details entry of an activity's ApplicationFailure, with its type; undefined for any other failure. */
function applicationDetails(err: unknown):
  | {
      type?: string;
      attempt?: unknown;
      outcomes?: Record<string, number>;
      results?: { name: string; passed?: boolean; ok?: boolean }[];
    }
  | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  return { ...((err.cause.details?.[0] ?? {}) as object), type: err.cause.type ?? undefined };
}
