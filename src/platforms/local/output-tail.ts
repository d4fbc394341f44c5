import * as fs from 'node:fs';

/**
 * Follows a file an engine writes its stdout or stderr to and hands over complete lines.
 * Engines write to files, not pipes, so they keep running (and logging) while the daemon restarts.
 */
export class OutputTail {
  private partial = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    /** Byte offset to resume from (an adopting daemon passes what the last one had copied). */
    public offset: number,
    private readonly onLines: (lines: string[]) => void,
    private readonly pollMs = 50,
  ) {}

  /** Starts polling the file for new bytes. */
  start(): void {
    this.timer ??= setInterval(() => this.drain(), this.pollMs);
    this.timer.unref();
  }

  /** Reads whatever was appended since the last call; on `final`, emits a trailing line without a newline too. */
  drain(final = false): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) this.offset = 0;
      if (size > this.offset) {
        const buffer = Buffer.alloc(size - this.offset);
        const read = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
        this.offset += read;
        this.partial += buffer.subarray(0, read).toString('utf8');
      }
    } finally {
      fs.closeSync(fd);
    }
    const lines = this.partial.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    if (final && this.partial) {
      lines.push(this.partial);
      this.partial = '';
    }
    if (lines.length > 0) this.onLines(lines);
  }

  /** Stops polling after a last read. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.drain(true);
  }
}
