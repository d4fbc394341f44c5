import { setTimeout as sleep } from 'node:timers/promises';
import type { EmulatorSettings, Fault } from './emulator-config';
import { isSpeculative, type EngineArgs } from './engine-args';
import type { EngineExit } from './engine-exit';
import { EngineMetrics } from './engine-metrics';
import type { EmulatorLog } from './emulator-log';
import type { EmulatedGpu } from './gpu-table';
import { SlotScheduler } from './slot-scheduler';

/** The engine's life: starting (loading/compiling), serving, or a terminal state. */
export type EngineStatus = 'loading' | 'compiling' | 'serving' | 'stopping' | 'dead';

/** The emulated serving engine: state, faults, metrics and the scheduler shared by all handlers. */
export class Engine {
  status: EngineStatus = 'loading';
  /** `process`: nothing answers; `scheduler`: HTTP answers but no token is ever produced. */
  hang: 'none' | 'process' | 'scheduler' = 'none';
  readonly scheduler: SlotScheduler;
  readonly metrics: EngineMetrics;
  readonly faults: Fault[];
  /** Chat requests seen (counts toward `afterRequests` faults and the 5xx fault). */
  chatRequestCount = 0;
  /** Prompt + generated tokens held by running requests (the KV in use). */
  usedTokens = 0;
  readonly isSpeculative: boolean;
  readonly capturedShapes = new Set<string>();
  readonly lifetime = new AbortController();
  private readonly recentTokens: Array<{ atMs: number; count: number }> = [];
  private acceptedTokens = 0;
  private verifySteps = 0;
  private exitListeners: Array<(exit: EngineExit) => void> = [];
  private readyListeners: Array<() => void> = [];
  readonly startedAtMs = Date.now();

  constructor(
    readonly args: EngineArgs,
    readonly settings: EmulatorSettings,
    readonly gpu: EmulatedGpu,
    readonly log: EmulatorLog,
  ) {
    this.scheduler = new SlotScheduler(args.maxRunningRequests);
    this.faults = [...settings.config.faults];
    this.isSpeculative = isSpeculative(args);
    this.metrics = new EngineMetrics(args.servedModelName, {
      runningRequests: () => this.scheduler.running,
      queuedRequests: () => this.scheduler.queued,
      usedTokens: () => this.usedTokens,
      maxTotalTokens: () => args.maxTotalTokens,
      generationThroughput: () => this.generationThroughput(),
      specAcceptLength: () => (this.verifySteps === 0 ? 0 : this.acceptedTokens / this.verifySteps),
    });
  }

  /** Converts an unscaled duration (the guide's real time) to wall-clock milliseconds. */
  scaled(ms: number): number {
    return ms * this.settings.timeScale;
  }

  /** Sleeps a scaled duration; rejects when the engine shuts down. */
  async sleepScaled(ms: number): Promise<void> {
    await sleep(this.scaled(ms), undefined, { signal: this.lifetime.signal });
  }

  /** True once the engine has exited or is shutting down. */
  get isGone(): boolean {
    return this.status === 'dead' || this.status === 'stopping';
  }

  /** Records tokens a verify step produced (for gen_throughput and spec_accept_length). */
  recordStep(tokens: number, isVerifyStep: boolean): void {
    const now = Date.now();
    this.recentTokens.push({ atMs: now, count: tokens });
    if (this.recentTokens.length > 10_000) this.recentTokens.splice(0, 5_000);
    if (!isVerifyStep || !this.isSpeculative) return;
    this.acceptedTokens += tokens;
    this.verifySteps += 1;
  }

  private generationThroughput(): number {
    const windowMs = 5_000;
    const since = Date.now() - windowMs;
    let count = 0;
    for (const entry of this.recentTokens) if (entry.atMs >= since) count += entry.count;
    return count / (windowMs / 1000);
  }

  /** Marks the engine ready to serve and arms serving-phase faults. */
  markServing(): void {
    this.status = 'serving';
    for (const listener of this.readyListeners) listener();
    this.readyListeners = [];
    this.armPhaseFaults('serving');
  }

  /** Calls back once the engine serves (never, if it dies first). */
  onReady(listener: () => void): void {
    if (this.status === 'serving') listener();
    else this.readyListeners.push(listener);
  }

  /** Calls back once the engine exits. */
  onExit(listener: (exit: EngineExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** Ends the engine: logs the lines, stops everything, tells the runner how to die. */
  die(exit: EngineExit, lines: string[] = []): void {
    if (this.status === 'dead') return;
    for (const line of lines) this.log.error(line);
    this.status = 'dead';
    this.lifetime.abort();
    for (const listener of this.exitListeners) listener(exit);
  }

  /** Arms the time-based faults of a phase (crash/hang `afterMs` into it). */
  armPhaseFaults(phase: 'loading' | 'compiling' | 'serving'): void {
    for (const fault of this.faults) {
      if ((fault.kind !== 'crash' && fault.kind !== 'hang') || fault.at !== phase) continue;
      if (fault.afterRequests !== undefined) continue;
      const timer = setTimeout(() => {
        if (!this.isGone && this.status === phase) this.fire(fault);
      }, this.scaled(fault.afterMs));
      timer.unref();
      this.lifetime.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }
  }

  /** Counts a chat request and fires request-count faults; returns a 5xx status when one applies. */
  admitChatRequest(): number | undefined {
    this.chatRequestCount += 1;
    for (const fault of this.faults) {
      if ((fault.kind === 'crash' || fault.kind === 'hang') && fault.afterRequests === this.chatRequestCount) {
        this.fire(fault);
      }
    }
    const httpError = this.faults.find((f) => f.kind === 'http-error');
    if (httpError?.kind === 'http-error' && this.chatRequestCount <= httpError.firstRequests) return httpError.status;
    return undefined;
  }

  /** Fires a crash or hang fault now. */
  fire(fault: Fault): void {
    if (fault.kind === 'hang') {
      this.hang = fault.mode;
      this.log.scheduler(`[fault] engine hang injected (mode=${fault.mode})`);
      return;
    }
    if (fault.kind !== 'crash') return;
    const lines: string[] = [];
    if (fault.oom) lines.push(oomLine(this.gpu));
    const signal = fault.signal ?? (fault.exitCode === undefined ? 'SIGKILL' : undefined);
    lines.push(
      signal
        ? `[fault] injected crash at ${this.status}: killed by ${signal}`
        : `[fault] injected crash at ${this.status}: exit code ${fault.exitCode}`,
    );
    this.die({ exitCode: signal ? undefined : fault.exitCode, signal, reason: lines.join(' | ') }, lines);
  }
}

/** The OOM line PyTorch prints before the OOM killer ends the process (guide §17: code -9). */
export function oomLine(gpu: EmulatedGpu): string {
  const capacity = (gpu.vramGiB * 0.93).toFixed(2);
  return (
    `torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.50 GiB. GPU 0 has a total capacity of ` +
    `${capacity} GiB of which 1.12 GiB is free. Process has ${(Number(capacity) - 1.12).toFixed(2)} GiB memory in use. ` +
    `Lower --mem-fraction-static (e.g. 0.88 -> 0.85).`
  );
}
