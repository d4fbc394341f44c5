import { setTimeout as sleep } from 'node:timers/promises';
import type { EmulatorSettings, Fault } from './emulator-config';
import { checkpointGiB } from './checkpoint-size';
import { engineCapacity, type EngineCapacity } from './engine-capacity';
import type { EngineArgs } from './engine-args';
import { failScheduler, oomError, type EngineExit, type ExitingEngine } from './engine-exit';
import { EngineMetrics } from './engine-metrics';
import type { EngineStatus } from './engine-status';
import type { EmulatorLog } from './emulator-log';
import type { EmulatedGpu } from './gpu-table';
import { readModelConfig } from './model-config';
import { SlotScheduler } from './slot-scheduler';

/** SGLang's `--decode-log-interval` default: one `Decode batch` line per 40 decode steps. */
const DECODE_LOG_INTERVAL = 40;
/** The smallest prefill size SGLang captures a graph for (`num_tokens=[4, 8, …]`). */
const MIN_PREFILL_GRAPH_TOKENS = 4;

/** The emulated serving engine: state, faults, metrics and the scheduler shared by all handlers. */
export class Engine implements ExitingEngine {
  status: EngineStatus = 'loading';
  /** `process`: nothing answers; `scheduler`: HTTP answers but no token is ever produced. */
  hang: 'none' | 'process' | 'scheduler' = 'none';
  /** True once the HTTP port is bound (real SGLang binds it only after the model loaded). */
  isPortOpen = false;
  readonly scheduler: SlotScheduler;
  readonly metrics: EngineMetrics;
  readonly faults: Fault[];
  /** Chat requests seen (counts toward `afterRequests` faults and the 5xx fault). */
  chatRequestCount = 0;
  /** Prompt + generated tokens held by running requests (the KV in use). */
  usedTokens = 0;
  readonly isSpeculative: boolean;
  /** The KV pool, the OOM verdict and the EAGLE settings the launch flags give this engine on its GPUs. */
  readonly capacity: EngineCapacity;
  /** The stand-in pid SGLang's logs give the `sglang::scheduler` child (the emulator is one process). */
  readonly schedulerPid = process.pid + 1;
  /** Largest decode batch with a captured graph (`--cuda-graph-max-bs`, SGLang's default otherwise). */
  readonly maxGraphBatch: number;
  /** Largest prefill size with a captured graph (SGLang's default prefill capture list ends at 8192 tokens). */
  readonly maxGraphPrefillTokens = 8192;
  readonly lifetime = new AbortController();
  private readonly recentTokens: Array<{ atMs: number; count: number }> = [];
  private acceptedTokens = 0;
  private verifySteps = 0;
  private decodeSteps = 0;
  private lastBatchUsedGraph = false;
  private modelContextLength: number | undefined;
  private exitListeners: Array<(exit: EngineExit) => void> = [];
  private readyListeners: Array<() => void> = [];
  private watchdogTimer: NodeJS.Timeout | undefined;
  readonly startedAtMs = Date.now();

  constructor(
    readonly args: EngineArgs,
    readonly settings: EmulatorSettings,
    readonly gpu: EmulatedGpu,
    readonly log: EmulatorLog,
  ) {
    this.capacity = engineCapacity(args, gpu, checkpointGiB(args.modelPath, settings.config.weightsGB));
    this.scheduler = new SlotScheduler(args.maxRunningRequests, Math.max(1, this.capacity.poolTokens));
    this.faults = [...settings.config.faults];
    this.isSpeculative = this.capacity.isSpeculative;
    this.maxGraphBatch = args.cudaGraphMaxBs ?? (this.isSpeculative ? 48 : 256);
    this.metrics = new EngineMetrics(
      { modelName: args.servedModelName, schedulerPid: this.schedulerPid },
      {
        runningRequests: () => this.scheduler.running,
        queuedRequests: () => this.scheduler.queued,
        usedTokens: () => this.usedTokens,
        maxTotalTokens: () => this.maxTotalNumTokens,
        contextLength: () => this.contextLength,
        generationThroughput: () => this.generationThroughput(),
        specAcceptLength: () => (this.verifySteps === 0 ? 0 : this.acceptedTokens / this.verifySteps),
        specNumSteps: () => (this.isSpeculative ? this.capacity.speculative.numSteps : 0),
        specNumDraftTokens: () => (this.isSpeculative ? this.capacity.speculative.numDraftTokens : 0),
        isCudaGraph: () => this.lastBatchUsedGraph,
      },
    );
  }

  /** SGLang's `max_total_num_tokens`: the KV pool in tokens (memory's size, capped by `--max-total-tokens`). */
  get maxTotalNumTokens(): number {
    return Math.max(1, this.capacity.poolTokens);
  }

  /** The model's context length (`sglang:context_len`): `--context-length`, else the model folder's config. */
  get contextLength(): number {
    this.modelContextLength ??= readModelConfig(this.args.modelPath, this.args.contextLength ?? null).contextLength;
    return this.modelContextLength;
  }

  /** Converts an unscaled duration (the guide's real time) to wall-clock milliseconds. */
  scaled(ms: number): number {
    return ms * this.settings.timeScale;
  }

  /** Sleeps a scaled duration; rejects when the engine shuts down. */
  async sleepScaled(ms: number): Promise<void> {
    await sleep(this.scaled(ms), undefined, { signal: this.lifetime.signal });
  }

  /** True once the engine has exited, is being closed, or is on its way out after a scheduler failure. */
  get isGone(): boolean {
    return this.status === 'dead' || this.status === 'stopping' || this.status === 'crashing';
  }

  /** Whether generation requests are taken: from the warm-up on, and still while draining after SIGTERM. */
  get isAcceptingRequests(): boolean {
    return this.status === 'warming' || this.status === 'serving' || this.status === 'draining';
  }

  /** Whether CUDA graphs were captured at start-up (`--disable-cuda-graph` turns them off). */
  get hasCudaGraphs(): boolean {
    return !this.args.disableCudaGraph;
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

  /**
   * Logs SGLang's `Prefill batch` line for one request's prefill and counts the forward pass. A captured graph runs
   * prefills from 4 tokens up to the largest captured size, as the recordings' `cuda graph: True/False` show.
   */
  logPrefillBatch(newTokens: number, cachedTokens = 0, forwardS = 0): void {
    const usesGraph =
      this.hasCudaGraphs && newTokens >= MIN_PREFILL_GRAPH_TOKENS && newTokens <= this.maxGraphPrefillTokens;
    this.lastBatchUsedGraph = usesGraph;
    const throughput = forwardS > 0 ? newTokens / forwardS : 0;
    this.log.scheduler(
      `Prefill batch, #new-seq: 1, #new-token: ${newTokens}, #cached-token: ${cachedTokens}, ` +
        `token usage: ${this.tokenUsage().toFixed(2)}, #running-req: ${Math.max(0, this.scheduler.running - 1)}, ` +
        `#queue-req: ${this.scheduler.queued}, #pending-token: 0, cuda graph: ${pyBool(usesGraph)}, ` +
        `input throughput (token/s): ${throughput.toFixed(2)}`,
    );
    this.metrics.observePrefill({ newTokens, cachedTokens, usesCudaGraph: usesGraph, forwardS });
  }

  /** Counts one decode step that produced `tokens`; every 40th logs SGLang's `Decode batch` line. */
  noteDecodeStep(tokens = 1): void {
    const batch = Math.max(1, this.scheduler.running);
    const usesGraph = this.hasCudaGraphs && batch <= this.maxGraphBatch;
    this.lastBatchUsedGraph = usesGraph;
    this.metrics.observeDecodeStep(tokens, usesGraph);
    this.decodeSteps += 1;
    if (this.decodeSteps % DECODE_LOG_INTERVAL !== 0) return;
    this.log.scheduler(
      `Decode batch, #running-req: ${batch}, #token: ${this.usedTokens}, token usage: ${this.tokenUsage().toFixed(2)}, ` +
        `cuda graph: ${pyBool(usesGraph)}, gen throughput (token/s): ${this.generationThroughput().toFixed(2)}, ` +
        `#queue-req: ${this.scheduler.queued}`,
    );
  }

  private tokenUsage(): number {
    return this.usedTokens / this.maxTotalNumTokens;
  }

  private generationThroughput(): number {
    const windowMs = 5_000;
    const since = Date.now() - windowMs;
    let count = 0;
    for (const entry of this.recentTokens) if (entry.atMs >= since) count += entry.count;
    return count / (windowMs / 1000);
  }

  /** Marks the engine ready to serve (after its own warm-up) and arms serving-phase faults. */
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
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
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

  /**
   * Fires a crash or hang fault now. A CUDA OOM or a killed scheduler goes through SGLang's own exit path (SIGQUIT,
   * `kill_process_tree`, returncode -9); a crash with an exit code or a signal and no `target: 'scheduler'` is the
   * whole server process ending at once (a platform kill, a SIGKILL of the main process).
   */
  fire(fault: Fault): void {
    if (fault.kind === 'hang') {
      this.hang = fault.mode;
      this.log.error(`[fault] engine hang injected (mode=${fault.mode})`);
      if (fault.mode === 'scheduler') this.armWatchdog();
      return;
    }
    if (fault.kind !== 'crash') return;
    if (fault.oom) {
      this.log.error(`[fault] injected CUDA OOM at ${this.status}`);
      failScheduler(this, { kind: 'exception', traceback: oomError(this.gpu) });
      return;
    }
    if (fault.target === 'scheduler') {
      this.log.error(`[fault] injected SIGKILL of the scheduler process at ${this.status}`);
      failScheduler(this, { kind: 'killed' });
      return;
    }
    const signal = fault.signal ?? (fault.exitCode === undefined ? 'SIGKILL' : undefined);
    const line = signal
      ? `[fault] injected crash at ${this.status}: killed by ${signal}`
      : `[fault] injected crash at ${this.status}: exit code ${fault.exitCode}`;
    this.die({ exitCode: signal ? undefined : fault.exitCode, signal, reason: line }, [line]);
  }

  /**
   * SGLang's scheduler watchdog: it fires when one forward batch has run longer than `--watchdog-timeout`, i.e. while
   * a request is running and no step completes (the recordings show it does not cover the model load). The emulator's
   * stalled forward is a scheduler hang with requests in flight.
   */
  private armWatchdog(): void {
    if (this.watchdogTimer) return;
    const timeoutMs = this.scaled(this.args.watchdogTimeoutS * 1000);
    let stalledSinceMs: number | undefined;
    this.watchdogTimer = setInterval(
      () => {
        if (this.isGone || this.hang !== 'scheduler') return;
        if (this.scheduler.running === 0) {
          stalledSinceMs = undefined;
          return;
        }
        stalledSinceMs ??= Date.now();
        if (Date.now() - stalledSinceMs < timeoutMs) return;
        clearInterval(this.watchdogTimer);
        failScheduler(this, { kind: 'watchdog' });
      },
      Math.max(1, timeoutMs / 4),
    );
    this.watchdogTimer.unref();
  }
}

/** Python's repr of a bool, as SGLang's log lines print it. */
export function pyBool(value: boolean): string {
  return value ? 'True' : 'False';
}
