import type { ErrorType } from './errors';

/**
 * Base of every domain error (storage, probes, both platforms, config): it names its failure type from the shared
 * vocabulary, so the activity boundary reads `errorType` instead of guessing from class names, and carries the
 * structured context that goes into the failure's details. Whether a type is retried is decided elsewhere, once
 * (`RETRYABLE` in errors.ts, read by the workflows' retry profiles).
 */
export abstract class DomainError extends Error {
  /** The failure type this error is reported as. */
  abstract readonly errorType: ErrorType;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Each subclass's own name (`WeightsCorruptError`): logs, the control API's wire form and tests read it.
    this.name = new.target.name;
  }

  /** Structured context for the failure's details (field, file, HTTP status): never a secret. */
  get details(): Record<string, unknown> | undefined {
    return undefined;
  }
}

// A mixin's base must take `...args: any[]` (TypeScript's rule for mixin constructors).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type DomainErrorClass = abstract new (...args: any[]) => DomainError;

/**
 * A subclass of `base` that reports `errorType`: `class NotFoundError extends reporting(LocalPlatformError,
 * ErrorType.NotFound) {}`. The class declared from it gives the error its name.
 */
export function reporting<B extends DomainErrorClass, T extends ErrorType>(base: B, errorType: T) {
  abstract class Reporting extends base {
    readonly errorType: T = errorType;
  }
  return Reporting;
}
