/** Where the emulator's log lines go: stdout for progress, stderr for errors (as SGLang's Python logging does). */
export type EmulatorLogSink = (line: string, stream: 'stdout' | 'stderr') => void;

/** Formats log lines in SGLang's shape: `[2026-01-01 12:00:00 TP0] message`. */
export class EmulatorLog {
  constructor(private readonly sink: EmulatorLogSink) {}

  /** A server-process line (`[time] message`). */
  info(message: string): void {
    this.sink(`[${timestamp()}] ${message}`, 'stdout');
  }

  /** A scheduler line, tagged with the TP rank like SGLang's scheduler logs. */
  scheduler(message: string): void {
    this.sink(`[${timestamp()} TP0] ${message}`, 'stdout');
  }

  /** A warning line. */
  warn(message: string): void {
    this.sink(`[${timestamp()}] WARNING ${message}`, 'stderr');
  }

  /** An error line or traceback line, verbatim on stderr. */
  error(message: string): void {
    this.sink(message, 'stderr');
  }

  /** A line without SGLang's prefix (uvicorn's own lines). */
  raw(message: string): void {
    this.sink(message, 'stdout');
  }
}

function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}
