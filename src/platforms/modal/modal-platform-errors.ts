import { DomainError, reporting } from '../../shared/domain-error';
import { ErrorType } from '../../shared/errors';

/** Base of the Modal platform's domain errors: each carries the `ErrorType` the activity boundary reports. */
export abstract class ModalPlatformError extends DomainError {
  /** The client's own error line (stderr), when the error came from a failed command. */
  clientMessage?: string;
}

/** The app, version, volume or file the caller named does not exist on Modal. */
export class ModalNotFoundError extends reporting(ModalPlatformError, ErrorType.NotFound) {}

/** The `modal` client or Modal credentials are missing on the worker; the message says how to fix it. */
export class ModalUnavailableError extends reporting(ModalPlatformError, ErrorType.PlatformUnavailable) {}

/** Modal could not be reached or the command ran out of time: worth a retry with backoff. */
export class ModalTransportError extends reporting(ModalPlatformError, ErrorType.TransportError) {}

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
export class ModalOutputError extends reporting(ModalPlatformError, ErrorType.TransportError) {}
