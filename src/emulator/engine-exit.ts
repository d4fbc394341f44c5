import type { EmulatorLog } from './emulator-log';
import type { EngineArgs } from './engine-args';
import type { EngineStatus } from './engine-status';
import type { EmulatedGpu } from './gpu-table';

/** How the emulated engine process ends: an exit code, or a signal it sends itself. */
export interface EngineExit {
  /** Set for a plain exit (e.g. 1 for a bind failure, 137 for an injected platform kill). */
  exitCode?: number;
  /**
   * Set for a signal death. SGLang ends every failure and every graceful shutdown with `kill_process_tree` on
   * itself, i.e. SIGKILL: Python's returncode -9 (the recordings show rc=-9 after SIGTERM, OOM, watchdog, a crashed
   * scheduler); SIGTERM before the port opened kills it with the default action (-15).
   */
  signal?: NodeJS.Signals;
  /** Why, in one line (for the in-process handle; the log already carries the engine's own lines). */
  reason: string;
}

/**
 * What the exit paths read and change on the engine. `Engine` (engine.ts) implements it; it is named here so that
 * engine.ts, which calls these paths, and this file do not import each other.
 */
export interface ExitingEngine {
  status: EngineStatus;
  hang: 'none' | 'process' | 'scheduler';
  readonly isPortOpen: boolean;
  readonly schedulerPid: number;
  readonly lifetime: AbortController;
  readonly log: EmulatorLog;
  readonly args: Pick<EngineArgs, 'watchdogTimeoutS'>;
  readonly scheduler: { readonly running: number };
  scaled(ms: number): number;
  die(exit: EngineExit): void;
}

/** A failure of SGLang's scheduler subprocess. */
export type SchedulerFailure =
  /** An exception it raised: traceback frames, then the `Type: message` line last. */
  | { kind: 'exception'; traceback: string[] }
  /** The scheduler process was killed (the OOM killer, `kill -9`). */
  | { kind: 'killed' }
  /** A forward batch ran past `--watchdog-timeout`. */
  | { kind: 'watchdog' };

/** The lines real SGLang 0.5.17 prints on its exit paths, worded as recorded on 2026-12-01. */
export const EXIT_LINES = {
  sigterm: 'SIGTERM received. signum=None frame=None. Draining requests and shutting down...',
  healthDuringShutdown: 'Health check request received during shutdown. Returning 503.',
  schedulerException: 'Scheduler hit an exception: Traceback (most recent call last):',
  childSigquit: 'Received sigquit from a child process. It usually means the child failed.',
  sigquitReceived: 'SIGQUIT received. signum=None, frame=None. It usually means one child failed.',
  sleepingBeforeDiagnostics: 'Sleeping 5 seconds before crash diagnostics to let GPU activity settle.',
  noLiveScheduler: 'No live scheduler processes found; skipping py-spy and CUDA coredump.',
  waitingForCoredumps: 'Waiting 60.0 seconds for CUDA coredumps before exiting.',
  schedulerDebugInfo: 'Scheduler debug info:',
  gracefullyExiting: (rids: readonly string[]) =>
    `Gracefully exiting... Remaining number of requests ${rids.length}. Remaining requests remaining_rids=[${rids
      .map((rid) => `'${rid}'`)
      .join(', ')}].`,
  killProcessTree: (pid: number) => `kill_process_tree called: parent_pid=${pid}, include_parent=True, pid=${pid}`,
  schedulerCrashed: (pid: number) =>
    `Subprocess scheduler_0 (pid=${pid}) crashed with exit code -9. Triggering SIGQUIT for cleanup...`,
  watchdogTimeout: (seconds: number) =>
    `Scheduler watchdog timeout (self.watchdog_timeout=${pyFloat(seconds)}, self.soft=False)`,
} as const;

// SGLang's timings on these paths (unscaled ms): the 5 s diagnostics pause, the 60 s coredump wait, the 5 s drain
// poll, and the ~2 s between the last drain line and kill_process_tree.
const DIAGNOSTICS_PAUSE_MS = 5_000;
const COREDUMP_WAIT_MS = 60_000;
const WATCHDOG_REPEAT_MS = 6_000;
const DRAIN_POLL_MS = 5_000;
const DRAIN_TO_KILL_MS = 2_000;

/** Python's repr of a float (`1.0`, `1200.0`, `0.5`), as `self.watchdog_timeout=` prints it. */
export function pyFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/**
 * The traceback of a CUDA OOM in the scheduler, in the recorded shape (frames, then PyTorch's message). The numbers
 * follow the GPU's capacity; the wording is PyTorch's.
 */
export function oomError(gpu: EmulatedGpu, where: 'init' | 'graph-buffers' = 'init'): string[] {
  const capacity = (gpu.vramGiB * 0.93).toFixed(2);
  const frames =
    where === 'graph-buffers'
      ? [
          '  File "/site-packages/sglang/srt/managers/scheduler.py", line 985, in init_model_worker',
          '    self.init_all_cuda_graphs()',
          '  File "/site-packages/sglang/srt/model_executor/model_runner_components/cuda_graph_setup.py", line 126, in capture_cuda_graphs',
          '    eager_runner = EagerRunner(model_runner)',
        ]
      : [
          '  File "/site-packages/sglang/srt/managers/scheduler.py", line 498, in __init__',
          '    self.init_model_worker()',
          '  File "/site-packages/sglang/srt/utils/common.py", line 4545, in init_cublas',
          '    c = a @ b',
        ];
  return [
    ...frames,
    `torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.08 GiB. GPU 0 has a total capacity of ${capacity} ` +
      `GiB of which 152.31 MiB is free. Including non-PyTorch memory, this process has ${(Number(capacity) - 0.16).toFixed(2)} ` +
      'GiB memory in use. Of the allocated memory 138.89 GiB is allocated by PyTorch, and 29.18 MiB is reserved by ' +
      'PyTorch but unallocated. If reserved but unallocated memory is large try setting ' +
      'PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory ' +
      'Management  (https://docs.pytorch.org/docs/stable/notes/cuda.html#optimizing-memory-usage-with-pytorch-cuda-alloc-conf)',
  ];
}

/** Logs `kill_process_tree` and ends the engine with SIGKILL (returncode -9), as SGLang's every exit path does. */
export function killProcessTree(engine: ExitingEngine, reason: string): void {
  engine.log.info(EXIT_LINES.killProcessTree(process.pid));
  engine.die({ signal: 'SIGKILL', reason });
}

/**
 * SGLang's reaction to a failed scheduler. Before the HTTP server runs, the main process gets the child's SIGQUIT
 * and kills its tree at once. While serving, it logs the SIGQUIT, pauses 5 s for diagnostics (nothing answers, not
 * even /health; in-flight streams stall), then kills its tree; a watchdog timeout also waits 60 s for coredumps.
 */
export function failScheduler(engine: ExitingEngine, failure: SchedulerFailure): void {
  if (engine.status === 'dead' || engine.status === 'crashing') return;
  const reason =
    failure.kind === 'exception'
      ? `scheduler exception: ${failure.traceback.at(-1) ?? ''}`
      : failure.kind === 'killed'
        ? 'scheduler process killed (SIGKILL)'
        : `scheduler watchdog timeout (${engine.args.watchdogTimeoutS} s)`;
  if (failure.kind === 'exception') {
    engine.log.scheduler(EXIT_LINES.schedulerException);
    for (const line of failure.traceback) engine.log.error(line);
    engine.log.error('');
  } else if (failure.kind === 'watchdog') {
    logWatchdog(engine);
  }
  if (!engine.isPortOpen) {
    if (failure.kind === 'killed') engine.log.info(EXIT_LINES.schedulerCrashed(engine.schedulerPid));
    engine.log.info(EXIT_LINES.childSigquit);
    killProcessTree(engine, reason);
    return;
  }
  engine.status = 'crashing';
  engine.hang = 'process';
  const pauseMs = failure.kind === 'watchdog' ? DIAGNOSTICS_PAUSE_MS : 0;
  const timers: NodeJS.Timeout[] = [];
  const at = (ms: number, step: () => void): void => {
    const timer = setTimeout(() => {
      if (engine.status !== 'dead') step();
    }, engine.scaled(ms));
    timer.unref();
    timers.push(timer);
  };
  engine.lifetime.signal.addEventListener('abort', () => timers.forEach(clearTimeout), { once: true });
  at(pauseMs, () => {
    if (failure.kind === 'killed') engine.log.info(EXIT_LINES.schedulerCrashed(engine.schedulerPid));
    engine.log.info(EXIT_LINES.sigquitReceived);
    engine.log.info(EXIT_LINES.sleepingBeforeDiagnostics);
  });
  if (failure.kind === 'watchdog') {
    // The watchdog keeps reporting while the main process waits for coredumps, then gives up after 60 s.
    at(pauseMs + 1_000, () => logWatchdog(engine));
    at(pauseMs + DIAGNOSTICS_PAUSE_MS, () => engine.log.info(EXIT_LINES.waitingForCoredumps));
    at(pauseMs + 1_000 + WATCHDOG_REPEAT_MS, () => logWatchdog(engine));
    at(pauseMs + DIAGNOSTICS_PAUSE_MS + COREDUMP_WAIT_MS, () => killProcessTree(engine, reason));
    return;
  }
  at(pauseMs + DIAGNOSTICS_PAUSE_MS, () => {
    engine.log.info(EXIT_LINES.noLiveScheduler);
    killProcessTree(engine, reason);
  });
}

function logWatchdog(engine: ExitingEngine): void {
  engine.log.scheduler(EXIT_LINES.schedulerDebugInfo);
  engine.log.error(`scheduler.cur_batch_for_debug.batch_size()=${engine.scheduler.running}`);
  engine.log.scheduler(EXIT_LINES.watchdogTimeout(engine.args.watchdogTimeoutS));
  engine.log.error('');
}

/**
 * SGLang's SIGTERM: before the HTTP server runs the default action kills it (-15); afterwards it logs the SIGTERM,
 * keeps serving (new requests too) while `/health` answers 503, reports the remaining requests every 5 s, and once
 * none is left kills its own tree (-9). `remainingRids` lists the requests still in flight.
 */
export function drainAndExit(engine: ExitingEngine, remainingRids: () => string[]): void {
  if (engine.status === 'dead' || engine.status === 'draining' || engine.status === 'crashing') return;
  if (!engine.isPortOpen) {
    engine.die({ signal: 'SIGTERM', reason: 'SIGTERM during start-up (default action)' });
    return;
  }
  engine.log.info(EXIT_LINES.sigterm);
  engine.status = 'draining';
  const poll = (): void => {
    const timer = setTimeout(() => {
      if (engine.status !== 'draining') return;
      const rids = remainingRids();
      engine.log.info(EXIT_LINES.gracefullyExiting(rids));
      if (rids.length > 0) return poll();
      const kill = setTimeout(() => {
        if (engine.status === 'draining') killProcessTree(engine, 'graceful shutdown after SIGTERM');
      }, engine.scaled(DRAIN_TO_KILL_MS));
      kill.unref();
    }, engine.scaled(DRAIN_POLL_MS));
    timer.unref();
  };
  poll();
}
