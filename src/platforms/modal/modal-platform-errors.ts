import { DomainError } from '../../shared/domain-error';
import { ErrorType } from '../../shared/errors';

/** Base of the Modal platform's domain errors: each carries the `ErrorType` the activity boundary reports. */
export abstract class ModalPlatformError extends DomainError {
  /** The client's own error line (stderr), when the error came from a failed command. */
  clientMessage?: string;
}

/** A ModalPlatformError class reporting `errorType`; the class declared from it gives the error its name. */
function modalError<T extends ErrorType>(errorType: T) {
  return class extends ModalPlatformError {
    readonly errorType = errorType;
  };
}

/** The app, version, volume or file the caller named does not exist on Modal. */
export class ModalNotFoundError extends modalError(ErrorType.NotFound) {}

/** The `modal` client or Modal credentials are missing on the worker; the message says how to fix it. */
export class ModalUnavailableError extends modalError(ErrorType.PlatformUnavailable) {}

/** Modal could not be reached or the command ran out of time: worth a retry with backoff. */
export class ModalTransportError extends modalError(ErrorType.TransportError) {}

/** A `modal` command failed for a reason of its own; `errorType` says which step (deploy, compile, download). */
export class ModalCommandError extends ModalPlatformError {
  constructor(
    message: string,
    readonly errorType: ErrorType,
  ) {
    super(message);
  }
}

/** The `modal` client printed something the adapter cannot parse (a client version it was not checked against). */
export class ModalOutputError extends modalError(ErrorType.TransportError) {}
