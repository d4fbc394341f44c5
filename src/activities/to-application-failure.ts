import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../shared/errors';

const KNOWN_TYPES = new Set<string>(Object.values(ErrorType));

/** Domain error class names (set with `this.name` in platforms/, storage/, probes/) and the failure type each maps to. */
const TYPE_BY_ERROR_NAME: Record<string, ErrorType> = {
  WeightsNotFoundError: ErrorType.WeightsNotFound,
  WeightsCorruptError: ErrorType.WeightsCorrupt,
  DiskFullError: ErrorType.DiskFull,
  HubTransportError: ErrorType.TransportError,
  CompileFailedError: ErrorType.CompileFailed,
  StorageAbortedError: ErrorType.Aborted,
  SecretMissingError: ErrorType.PlatformUnavailable,
  ProbeHttpError: ErrorType.TransportError,
};

/**
 * Converts any error into an ApplicationFailure of the shared vocabulary, at the activity boundary.
 * Domain errors name their type with an `errorType` field or by class name; anything else is a retryable transport error.
 */
export function toApplicationFailure(err: unknown, fallback: ErrorType = ErrorType.TransportError): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const declared = (error as { errorType?: unknown }).errorType;
  const type =
    typeof declared === 'string' && KNOWN_TYPES.has(declared)
      ? (declared as ErrorType)
      : (TYPE_BY_ERROR_NAME[error.name] ?? fallback);
  return ApplicationFailure.create({ type, message: error.message, cause: undefined });
}

/** Runs an activity body and converts whatever it throws. */
export async function withFailureTypes<T>(body: () => Promise<T>, fallback?: ErrorType): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toApplicationFailure(err, fallback);
  }
}
