import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';

/** Why a request never got an HTTP answer: it timed out, the port refused it, or the connection broke. */
export type TransportFailureKind = 'timeout' | 'refused' | 'error';

/** The endpoint answered with a non-2xx status; carries the OpenAI error body's message only (never headers). */
export class ProbeHttpError extends DomainError {
  readonly errorType = ErrorType.TransportError;
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** `message` of SGLang's OpenAI-shaped error body, or the start of the raw body. */
    readonly errorMessage: string,
  ) {
    super(`${method} ${path} answered HTTP ${status}${errorMessage ? `: ${errorMessage}` : ''}`);
  }

  override get details(): Record<string, unknown> {
    return { status: this.status };
  }
}

/** No HTTP answer at all (timeout, connection refused, reset); retrying may help. */
export class ProbeTransportError extends DomainError {
  readonly errorType = ErrorType.TransportError;
  constructor(
    readonly method: string,
    readonly path: string,
    readonly kind: TransportFailureKind,
    detail: string,
  ) {
    super(`${method} ${path}: ${detail}`);
  }
}

/** The endpoint answered 2xx but the body is not what the OpenAI/SGLang protocol promises. */
export class ProbeProtocolError extends DomainError {
  readonly errorType = ErrorType.TransportError;
  constructor(
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${method} ${path}: ${detail}`);
  }
}
