import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';

/** The hub has no such repo or revision (or refuses access); no retry can fix it. */
export class WeightsNotFoundError extends DomainError {
  readonly errorType = ErrorType.WeightsNotFound;
  constructor(
    readonly repo: string,
    readonly revision: string,
    readonly status: number,
    detail = '',
  ) {
    super(
      `model.repo "${repo}" at model.revision "${revision}" was not found on the hub (HTTP ${status})${detail ? `: ${detail}` : ''}: ` +
        'check the repo name and revision in the spec, and HF_TOKEN for gated repos',
    );
  }

  override get details(): Record<string, unknown> {
    return { repo: this.repo, revision: this.revision, status: this.status };
  }
}

/** A file kept failing its size or sha256 check after every attempt. */
export class WeightsCorruptError extends DomainError {
  readonly errorType = ErrorType.WeightsCorrupt;
  constructor(
    readonly file: string,
    readonly attempts: number,
    reason: string,
  ) {
    super(
      `file "${file}" failed verification after ${attempts} attempts (${reason}): the hub serves bad bytes; retry later or check the hub`,
    );
  }

  override get details(): Record<string, unknown> {
    return { file: this.file, attempts: this.attempts };
  }
}

/** The volume has no space left; partial files are kept so a later run resumes. */
export class DiskFullError extends DomainError {
  readonly errorType = ErrorType.DiskFull;
  constructor(
    readonly dir: string,
    readonly file: string,
  ) {
    super(
      `no space left on the volume at ${dir} while writing "${file}": free space or grow the volume, then re-run (partial files resume)`,
    );
  }

  override get details(): Record<string, unknown> {
    return { dir: this.dir, file: this.file };
  }
}

/** A transient hub or network failure that outlasted the per-file retries. */
export class HubTransportError extends DomainError {
  readonly errorType = ErrorType.TransportError;
  constructor(
    readonly url: string,
    reason: string,
    readonly status?: number,
  ) {
    super(`hub request ${url} failed: ${reason}; it is retried with backoff`);
  }

  override get details(): Record<string, unknown> {
    return { status: this.status };
  }
}

/** The DeepGEMM compile step exited non-zero, was killed, or left no valid cache. */
export class CompileFailedError extends DomainError {
  readonly errorType = ErrorType.CompileFailed;
  constructor(
    reason: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly outputTail: string[] = [],
  ) {
    super(`DeepGEMM compile failed: ${reason}; no marker was written, the next run compiles again`);
  }

  override get details(): Record<string, unknown> {
    return { exitCode: this.exitCode, signal: this.signal, outputTail: this.outputTail };
  }
}

/** The caller aborted a long storage step. */
export class StorageAbortedError extends DomainError {
  readonly errorType = ErrorType.Aborted;
  constructor(step: string) {
    super(`${step} was aborted; partial work is kept and the next run resumes`);
  }
}

/** True for the errno codes a full or quota-capped filesystem reports. */
export function isDiskFullErrno(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}
