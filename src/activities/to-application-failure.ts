import { cancellationSignal } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';

/**
 * Converts any error into an ApplicationFailure of the shared vocabulary, at the activity boundary. A domain error
 * names its type (`errorType`) and its details; anything else (a bug, an unexpected library error) becomes `fallback`.
 * Retryability is not decided here: the workflows' retry profiles list the non-retryable types (`RETRYABLE`).
 */
export function toApplicationFailure(err: unknown, fallback: ErrorType = ErrorType.TransportError): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof DomainError) {
    const details = definedEntries(err.details);
    return ApplicationFailure.create({ type: err.errorType, message: err.message, details: details ? [details] : [] });
  }
  return ApplicationFailure.create({ type: fallback, message: err instanceof Error ? err.message : String(err) });
}

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/**
 * The one boundary of the activities: wraps each function of a factory's activities so whatever it throws leaves as
 * a typed ApplicationFailure (`fallbacks` names the type of an unexpected error, per activity; default
 * TransportError). A cancelled activity reports the SDK's cancellation instead, whatever its body threw on the way
 * out, so Temporal records it as cancelled rather than failed.
 */
export function withFailureTypes<A extends Record<string, ActivityFunction>>(
  activities: A,
  fallbacks: Partial<Record<keyof A, ErrorType>> = {},
): A {
  const wrapped = Object.entries(activities).map(([name, activity]) => [
    name,
    async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (err) {
        throw failureAtBoundary(err, fallbacks[name]);
      }
    },
  ]);
  return Object.fromEntries(wrapped) as A;
}

function failureAtBoundary(err: unknown, fallback: ErrorType | undefined): unknown {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  const cancellation = cancellationSignal();
  if (cancellation.aborted) return cancellation.reason;
  return toApplicationFailure(err, fallback);
}

function definedEntries(record: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const entries = Object.entries(record ?? {}).filter(([, value]) => value !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
