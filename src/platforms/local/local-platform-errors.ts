import { DomainError, reporting } from '../../shared/domain-error';
import { ErrorType } from '../../shared/errors';

/** Base of the local platform's domain errors: each carries the `ErrorType` the activity boundary reports. */
export abstract class LocalPlatformError extends DomainError {}

/** An app or version the caller named does not exist on the local platform. */
export class NotFoundError extends reporting(LocalPlatformError, ErrorType.NotFound) {}

/** A deploy was refused before any process started: the spec is invalid or fails lint. */
export class SpecRefusedError extends reporting(LocalPlatformError, ErrorType.SpecInvalid) {}

/** The engine cannot be started here (SGLang not importable, API key secret missing, emulator not built). */
export class EngineUnavailableError extends reporting(LocalPlatformError, ErrorType.PlatformUnavailable) {}

/**
 * The platform daemon is not running or did not answer its control API: an outage (a killed daemon comes back from
 * its state), so the boundary reports it as retryable; a daemon that stays away fails the step after its retries.
 */
export class DaemonUnavailableError extends reporting(LocalPlatformError, ErrorType.PlatformUnreachable) {}

/** The control API answered with an error it could not classify (a bug or a transport failure). */
export class ControlApiError extends reporting(LocalPlatformError, ErrorType.TransportError) {}

/** Serialised form of a domain error on the control API. */
export interface WireError {
  name: string;
  errorType: string;
  message: string;
}

/** Rebuilds a typed domain error from its control-API form, so callers can branch on the class and `errorType`. */
export function errorFromWire(wire: WireError): LocalPlatformError {
  switch (wire.name) {
    case 'NotFoundError':
      return new NotFoundError(wire.message);
    case 'SpecRefusedError':
      return new SpecRefusedError(wire.message);
    case 'EngineUnavailableError':
      return new EngineUnavailableError(wire.message);
    case 'DaemonUnavailableError':
      return new DaemonUnavailableError(wire.message);
    default:
      return new ControlApiError(wire.message);
  }
}

/** HTTP status a domain error is sent with. */
export function statusForError(error: unknown): number {
  if (error instanceof NotFoundError) return 404;
  if (error instanceof SpecRefusedError) return 400;
  if (error instanceof EngineUnavailableError) return 412;
  return 500;
}
