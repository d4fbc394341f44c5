/** Progress of a long storage step (download, verify, compile); the platform port adds where it runs. */
export interface TransferProgress {
  /** What is running: `download`, `verify`, `compile`. */
  stage: string;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  /** Bytes per second over the recent window. */
  rateBytesPerSec: number;
}

/** Called with progress; must not throw. */
export type TransferProgressCallback = (progress: TransferProgress) => void;

/** Counts bytes and files of a long step and reports them, at most every `intervalMs`, with a windowed rate. */
export class ProgressMeter {
  private bytesDone = 0;
  private filesDone = 0;
  private lastReportMs = 0;
  private readonly samples: Array<{ atMs: number; bytes: number }> = [];

  constructor(
    private readonly stage: string,
    private readonly bytesTotal: number,
    private readonly filesTotal: number,
    private readonly onProgress?: TransferProgressCallback,
    private readonly intervalMs = 250,
    private readonly windowMs = 3000,
  ) {}

  /** Bytes that were already on disk before this run (they count as done, not toward the rate). */
  addExisting(bytes: number): void {
    this.bytesDone += bytes;
  }

  /** Newly transferred bytes. */
  addBytes(bytes: number): void {
    this.bytesDone += bytes;
    this.maybeReport();
  }

  /** Takes back bytes of an attempt that failed verification. */
  subtractBytes(bytes: number): void {
    this.bytesDone = Math.max(0, this.bytesDone - bytes);
  }

  /** One more file finished. */
  fileDone(): void {
    this.filesDone += 1;
    this.maybeReport();
  }

  /** Reports now, regardless of the interval. */
  flush(): TransferProgress {
    const progress = this.snapshot(Date.now());
    this.onProgress?.(progress);
    return progress;
  }

  private maybeReport(): void {
    const nowMs = Date.now();
    this.samples.push({ atMs: nowMs, bytes: this.bytesDone });
    while (this.samples.length > 2 && this.samples[0]!.atMs < nowMs - this.windowMs) this.samples.shift();
    if (nowMs - this.lastReportMs < this.intervalMs) return;
    this.lastReportMs = nowMs;
    this.onProgress?.(this.snapshot(nowMs));
  }

  private snapshot(nowMs: number): TransferProgress {
    const first = this.samples[0];
    const elapsedMs = first ? nowMs - first.atMs : 0;
    const rateBytesPerSec =
      first && elapsedMs > 0 ? Math.round(((this.bytesDone - first.bytes) * 1000) / elapsedMs) : 0;
    return {
      stage: this.stage,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      rateBytesPerSec,
    };
  }
}
