/**
 * Where the emulator's log lines go. As with SGLang: its Python logging (`logging.basicConfig`) and uvicorn's own
 * logger write to stderr, uvicorn's access log to stdout.
 */
export type EmulatorLogSink = (line: string, stream: 'stdout' | 'stderr') => void;

/**
 * The tag SGLang's scheduler adds to its lines: ` TP<rank>` only when tp_size > 1, ` EP<rank>` only when
 * ep_size > 1 (a single-GPU server's lines carry none, as the recordings show). The emulator speaks for rank 0.
 */
export function schedulerTag(parallel: { tp: number; ep: number }): string {
  return `${parallel.tp > 1 ? ' TP0' : ''}${parallel.ep > 1 ? ' EP0' : ''}`;
}

/**
 * Formats log lines in SGLang's shape. Its Python logging prints `[YYYY-MM-DD HH:MM:SS] message` with no level name
 * (warnings too); scheduler lines add the rank tag; uvicorn's lines go through the same formatter as
 * `[time] INFO:     message`.
 */
export class EmulatorLog {
  constructor(
    private readonly sink: EmulatorLogSink,
    private readonly tag = '',
  ) {}

  /** A line of the server (tokenizer-manager) process. */
  info(message: string): void {
    this.sink(`[${timestamp()}] ${message}`, 'stderr');
  }

  /** A scheduler line, tagged with the rank as SGLang's scheduler logs are when tp or ep > 1. */
  scheduler(message: string): void {
    this.sink(`[${timestamp()}${this.tag}] ${message}`, 'stderr');
  }

  /** A warning: SGLang's format has no level name, so it reads like `info`, on stderr. */
  warn(message: string): void {
    this.sink(`[${timestamp()}] ${message}`, 'stderr');
  }

  /** A scheduler-side warning. */
  schedulerWarn(message: string): void {
    this.sink(`[${timestamp()}${this.tag}] ${message}`, 'stderr');
  }

  /** An error or traceback line, verbatim on stderr. */
  error(message: string): void {
    this.sink(message, 'stderr');
  }

  /** A line without SGLang's prefix (progress bars, Python warnings), on stderr as tqdm and `warnings` write. */
  raw(message: string): void {
    this.sink(message, 'stderr');
  }

  /** A uvicorn line (`INFO:     Started server process [pid]`), on stderr like uvicorn's own logger. */
  uvicorn(message: string, level: 'INFO' | 'ERROR' = 'INFO'): void {
    this.sink(`[${timestamp()}] ${`${level}:`.padEnd(10)}${message}`, 'stderr');
  }

  /** Uvicorn's access line, on stdout: `INFO:     127.0.0.1:46054 - "GET /health HTTP/1.1" 503 Service Unavailable`. */
  access(client: string, requestLine: string, status: number, reason: string): void {
    this.sink(`[${timestamp()}] INFO:     ${client} - "${requestLine}" ${status} ${reason}`, 'stdout');
  }
}

function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}
