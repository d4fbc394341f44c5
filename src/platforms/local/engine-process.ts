import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { EngineRecord } from './app-state';
import type { EngineCommand } from './engine-command';
import { OutputTail } from './output-tail';
import {
  DAEMON_OWNER_ENV,
  ENGINE_ID_ENV,
  ENGINE_OWNER_ENV,
  isProcessAlive,
  terminateProcessGroup,
} from '../../process/process-identity';

/** Life of one engine: loading until /health answers 200, then serving, until its process is gone. */
export type EngineState = 'starting' | 'ready' | 'exited';

/** What settles a wait for an engine. */
export type EngineSettlement = 'ready' | 'exited' | 'timeout';

/** Callbacks an engine reports through; the engine never logs by itself. */
export interface EngineObserver {
  onOutput(stream: 'stdout' | 'stderr', lines: string[]): void;
  /** Python-style returncode (`-9` for SIGKILL, the exit code otherwise); null when an adopted engine vanished. */
  onExit(engine: EngineProcess, returncode: number | null): void;
  onReady(engine: EngineProcess): void;
}

const HEALTH_POLL_MS = 50;
const ADOPTED_EXIT_POLL_MS = 100;

/** The daemon's environment minus its own marker, so an engine is never mistaken for a daemon. */
function engineBaseEnv(): NodeJS.ProcessEnv {
  const { [DAEMON_OWNER_ENV]: _daemonMarker, ...rest } = process.env;
  return rest;
}

/** Python's subprocess returncode for a Node exit: `-signal` for a signal, the exit code otherwise. */
export function pythonReturncode(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (signal) return -(os.constants.signals[signal] ?? 0);
  return code;
}

/**
 * One engine process (the emulator or SGLang) in its own process group, with its output in files and its
 * readiness read from /health. Works the same for an engine this daemon spawned and one it adopted after a restart.
 */
export class EngineProcess {
  state: EngineState = 'starting';
  /** Set once the platform asked it to stop, so its exit is not reported as a crash. */
  isStopping = false;
  /** Requests assigned to it: held while it loads, then proxied. */
  inFlight = 0;
  lastActiveAtMs = Date.now();
  returncode: number | null | undefined;
  readonly startedAtMs: number;
  private readonly events = new EventEmitter();
  private readonly tails: OutputTail[];
  private exitPoll: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly record: EngineRecord,
    private readonly observer: EngineObserver,
    private readonly apiKey: string | undefined,
  ) {
    this.startedAtMs = Date.parse(record.startedAt) || Date.now();
    this.events.setMaxListeners(0);
    this.tails = [
      new OutputTail(record.stdoutPath, record.stdoutOffset, (lines) => observer.onOutput('stdout', lines)),
      new OutputTail(record.stderrPath, record.stderrOffset, (lines) => observer.onOutput('stderr', lines)),
    ];
  }

  /** Starts an engine with stdout/stderr appended to files, tagged with its id and owner for later adoption. */
  static spawn(
    command: EngineCommand,
    identity: Omit<EngineRecord, 'pid' | 'stdoutOffset' | 'stderrOffset'> & { owner: string },
    observer: EngineObserver,
    apiKey: string | undefined,
  ): EngineProcess {
    const stdout = fs.openSync(identity.stdoutPath, 'a', 0o600);
    const stderr = fs.openSync(identity.stderrPath, 'a', 0o600);
    const stdoutOffset = fs.fstatSync(stdout).size;
    const stderrOffset = fs.fstatSync(stderr).size;
    let child;
    try {
      child = spawn(command.file, command.args, {
        stdio: ['ignore', stdout, stderr],
        detached: true,
        env: {
          ...engineBaseEnv(),
          ...command.env,
          [ENGINE_ID_ENV]: identity.engineId,
          [ENGINE_OWNER_ENV]: identity.owner,
          PYTHONUNBUFFERED: '1',
        },
      });
    } finally {
      fs.closeSync(stdout);
      fs.closeSync(stderr);
    }
    const { owner: _owner, ...rest } = identity;
    const engine = new EngineProcess({ ...rest, pid: child.pid ?? 0, stdoutOffset, stderrOffset }, observer, apiKey);
    child.once('error', () => engine.markExited(127));
    child.once('exit', (code, signal) => engine.markExited(pythonReturncode(code, signal)));
    if (!child.pid) engine.markExited(127);
    engine.begin();
    return engine;
  }

  /** Takes over an engine a previous daemon started; its exit is noticed by polling the pid. */
  static adopt(record: EngineRecord, observer: EngineObserver, apiKey: string | undefined): EngineProcess {
    const engine = new EngineProcess(record, observer, apiKey);
    engine.exitPoll = setInterval(() => {
      if (!isProcessAlive(record.pid)) engine.markExited(null);
    }, ADOPTED_EXIT_POLL_MS);
    engine.exitPoll.unref();
    engine.begin();
    return engine;
  }

  /** The record to persist, with the current output offsets. */
  snapshot(): EngineRecord {
    return { ...this.record, stdoutOffset: this.tails[0]!.offset, stderrOffset: this.tails[1]!.offset };
  }

  get pid(): number {
    return this.record.pid;
  }

  get port(): number {
    return this.record.port;
  }

  /** Resolves when the engine is ready, has exited, or timeoutMs passed. */
  settled(timeoutMs: number): Promise<EngineSettlement> {
    if (this.state !== 'starting') return Promise.resolve(this.state);
    return new Promise((resolve) => {
      const finish = (result: EngineSettlement): void => {
        clearTimeout(timer);
        this.events.off('settled', onSettled);
        resolve(result);
      };
      const onSettled = (state: EngineSettlement): void => finish(state);
      const timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs));
      this.events.on('settled', onSettled);
    });
  }

  /** SIGTERM to its process group, SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.isStopping = true;
    if (this.state === 'exited') return;
    await terminateProcessGroup(this.pid, graceMs);
    // An adopted engine's exit is only seen by polling; do not wait for the next tick.
    if (!isProcessAlive(this.pid)) this.markExited(this.returncode ?? null);
  }

  private begin(): void {
    for (const tail of this.tails) tail.start();
    this.pollHealth();
  }

  /**
   * Polls the engine's own /health until 200. A refused connection means "still loading", not "dead": SGLang (and
   * the emulator) binds its port only after the model has loaded and the CUDA graphs are captured, then answers 503
   * during its warm-up. Death is learnt from the process exit (the crash monitor), never from the port.
   */
  private pollHealth(): void {
    if (this.state !== 'starting') return;
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
    const request = http.get(
      { host: '127.0.0.1', port: this.port, path: '/health', headers, timeout: 2_000 },
      (res) => {
        res.resume();
        if (res.statusCode === 200) this.markReady();
        else this.scheduleHealthPoll();
      },
    );
    request.once('timeout', () => request.destroy());
    request.once('error', () => this.scheduleHealthPoll());
  }

  private scheduleHealthPoll(): void {
    if (this.state !== 'starting') return;
    this.healthTimer = setTimeout(() => this.pollHealth(), HEALTH_POLL_MS);
    this.healthTimer.unref();
  }

  private markReady(): void {
    if (this.state !== 'starting') return;
    this.state = 'ready';
    this.lastActiveAtMs = Date.now();
    this.observer.onReady(this);
    this.events.emit('settled', 'ready');
  }

  private markExited(returncode: number | null): void {
    if (this.state === 'exited') return;
    this.state = 'exited';
    this.returncode = returncode;
    if (this.exitPoll) clearInterval(this.exitPoll);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    for (const tail of this.tails) tail.stop();
    this.observer.onExit(this, returncode);
    this.events.emit('settled', 'exited');
  }
}
