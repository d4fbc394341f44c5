import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Spec } from '../../spec/schema';
import { freePort } from '../../net/free-port';
import type { AppLog } from './app-log';
import type { EngineRecord } from './app-state';
import type { EngineFactory } from './engine-factory';
import { EngineProcess, type EngineObserver } from './engine-process';
import { ENGINE_ID_ENV, hasEnvMarker, terminateProcessGroup } from '../../process/process-identity';

/** Timings of the platform's own behaviour (not the engine's). */
export interface ServingTimings {
  /** SIGTERM → SIGKILL grace when stopping an engine. */
  stopGraceMs: number;
  /** Time a crashed engine's container stays down (answering 502) before the replacement starts. */
  replaceDelayMs: number;
  /** Cap of the doubling replacement delay in a crash loop. */
  maxReplaceDelayMs: number;
  /** How often scale-down, min-containers and replacement are checked. */
  tickMs: number;
  /**
   * How long a rolling deploy keeps the replaced version's engines once the new one serves, when nothing verifies
   * it first. @default the new version's health.startupTimeout + 2 × warmup.timeout
   */
  retainPreviousMs?: number;
}

/** An engine start under way; requests that will wait for it reserve a place, up to the spec's maxInputs. */
export interface PendingStart {
  version: number;
  reserved: number;
  engine: Promise<EngineProcess | undefined>;
}

/** What the pool asks of its app: which spec a version runs, which version is current, and where notes go. */
export interface EnginePoolHost {
  readonly log: AppLog;
  specOf(version: number): Spec | undefined;
  currentVersion(): number | null;
  /** Whether a version's engines are kept (current, still serving, or retained for a rollback): adopted, not killed. */
  keepsVersion(version: number): boolean;
  /** An engine turned ready (a rolling deploy moves traffic to the new version here). */
  onReady(engine: EngineProcess): void;
  /** An engine started: counted as a cold start, and the state is saved with it. */
  onStarted(): void;
  /** An engine exited; the state is saved without it. */
  onExited(): void;
  /** Output arrived; the state (its offsets) is saved soon. */
  onOutput(): void;
}

/**
 * The engines of one app and their supervision: starting them (port, paths, argv, spawn), adopting the ones a
 * previous daemon left, stopping them with a grace period, and the crash monitor: an engine of the current version
 * that dies unasked keeps its container down for a back-off that doubles in a crash loop, then the autoscaler
 * replaces it. Every change (ready, exit, a released request) wakes the requests waiting in {@link waitForChange}.
 */
export class EnginePool {
  private readonly live: EngineProcess[] = [];
  private readonly pending: PendingStart[] = [];
  private readonly changes = new EventEmitter();
  private readonly apiKeys = new Set<string>();
  private crashPending: { version: number; replaceAtMs: number } | undefined;
  private consecutiveCrashes = 0;
  private isClosedFlag = false;

  constructor(
    private readonly options: {
      dir: string;
      owner: string;
      factory: EngineFactory;
      timings: ServingTimings;
      host: EnginePoolHost;
    },
  ) {
    this.changes.setMaxListeners(0);
  }

  /** Engines not yet gone (live or stopping). */
  get engines(): readonly EngineProcess[] {
    return this.live;
  }

  get pendingStarts(): readonly PendingStart[] {
    return this.pending;
  }

  /** Set once the app closed: nothing starts, and an exit is no longer a crash. */
  get isClosed(): boolean {
    return this.isClosedFlag;
  }

  /** The crashed version's back-off, while its container stays down. */
  get crash(): { version: number; replaceAtMs: number } | undefined {
    return this.crashPending;
  }

  /** Engines of a version that were not asked to stop. */
  liveOf(version: number): EngineProcess[] {
    return this.live.filter((e) => e.record.version === version && !e.isStopping);
  }

  /** Text with every API key an engine was started with replaced by `***`. */
  redact(text: string): string {
    let out = text;
    for (const key of this.apiKeys) if (key) out = out.split(key).join('***');
    return out;
  }

  /** Traffic moved to another version: a crash of the old one no longer holds the new one back. */
  resetCrashes(): void {
    this.crashPending = undefined;
    this.consecutiveCrashes = 0;
    this.notify();
  }

  /** No replacement is due any more: the app stopped, or the replacement is starting. */
  clearCrash(): void {
    this.crashPending = undefined;
  }

  /**
   * Adopts the engines of a saved state that are still alive (their environment marker proves the pid is ours)
   * and run a kept version (current, still serving, retained); other leftovers are killed.
   */
  async adopt(records: EngineRecord[]): Promise<void> {
    const { host, timings } = this.options;
    for (const record of records) {
      if (!hasEnvMarker(record.pid, ENGINE_ID_ENV, record.engineId)) continue;
      const spec = host.specOf(record.version);
      if (host.keepsVersion(record.version) && spec) {
        const engine = EngineProcess.adopt(record, this.observer(), this.apiKeyFor(spec));
        this.live.push(engine);
        host.log.system(`[platform] adopted engine v${record.version} pid ${record.pid} on port ${record.port}`);
      } else {
        await terminateProcessGroup(record.pid, timings.stopGraceMs);
        host.log.system(
          `[platform] killed leftover engine v${record.version} pid ${record.pid} (not a version the app keeps)`,
        );
      }
    }
  }

  /** Starts an engine for a version; its promise resolves undefined (and logs why) when it cannot start. */
  start(version: number, reason: string): PendingStart {
    const pending: PendingStart = { version, reserved: 0, engine: Promise.resolve(undefined) };
    pending.engine = this.spawn(version, reason).finally(() => {
      this.pending.splice(this.pending.indexOf(pending), 1);
      this.notify();
    });
    this.pending.push(pending);
    return pending;
  }

  /** SIGTERM, then SIGKILL after the grace period; logs the reason once. */
  async stop(engine: EngineProcess, reason: string): Promise<void> {
    if (engine.isStopping && engine.state === 'exited') return;
    if (!engine.isStopping) this.options.host.log.system(`[platform] stopping engine pid ${engine.pid}: ${reason}`);
    await engine.stop(this.options.timings.stopGraceMs);
  }

  /** Stops every engine (app stopped, platform down). */
  async stopAll(reason: string): Promise<void> {
    await Promise.all(this.live.map((engine) => this.stop(engine, reason)));
  }

  /** Marks the app closed: nothing starts from now on. */
  close(): void {
    this.isClosedFlag = true;
  }

  /** Records to persist: every engine not yet exited, with its output offsets. */
  snapshot(): EngineRecord[] {
    return this.live.filter((e) => e.state !== 'exited').map((e) => e.snapshot());
  }

  /** Wakes every request waiting for a change. */
  notify(): void {
    this.changes.emit('change');
  }

  /** Resolves true at the next change, false when timeoutMs passes first. */
  waitForChange(timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onChange = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.changes.off('change', onChange);
        resolve(false);
      }, timeoutMs);
      this.changes.once('change', onChange);
    });
  }

  private apiKeyFor(spec: Spec): string {
    const key = this.options.factory.resolveApiKey(spec);
    this.apiKeys.add(key);
    return key;
  }

  private async spawn(version: number, reason: string): Promise<EngineProcess | undefined> {
    const { host, factory, dir, owner } = this.options;
    const spec = host.specOf(version);
    if (!spec) return undefined;
    try {
      const port = await freePort();
      if (this.isClosedFlag || host.currentVersion() !== version) return undefined;
      const apiKey = this.apiKeyFor(spec);
      const { modelPath, kernelCacheDir } = await factory.resolveEnginePaths(spec);
      const argv = factory.buildArgv(spec, { modelPath, host: '127.0.0.1', port, apiKey });
      const command = factory.engineCommand(spec, { sglangArgv: argv, kernelCacheDir });
      const engineId = randomUUID();
      const engine = EngineProcess.spawn(
        command,
        {
          engineId,
          owner,
          port,
          version,
          startedAt: new Date().toISOString(),
          stdoutPath: path.join(dir, `engine-${engineId}.stdout`),
          stderrPath: path.join(dir, `engine-${engineId}.stderr`),
        },
        this.observer(),
        apiKey,
      );
      if (engine.state !== 'exited') this.live.push(engine);
      host.log.system(`[platform] starting engine v${version} pid ${engine.pid} on port ${port} (${reason})`);
      host.onStarted();
      return engine;
    } catch (err) {
      host.log.system(`[platform] could not start engine v${version}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private observer(): EngineObserver {
    const { host } = this.options;
    return {
      onOutput: (stream, lines) => {
        host.log.append(stream, lines);
        host.onOutput();
      },
      onReady: (engine) => {
        this.consecutiveCrashes = 0;
        const loadMs = Date.now() - engine.startedAtMs;
        host.log.system(`[platform] engine v${engine.record.version} pid ${engine.pid} ready after ${loadMs} ms`);
        host.onReady(engine);
        this.notify();
      },
      onExit: (engine, returncode) => this.onExit(engine, returncode),
    };
  }

  private onExit(engine: EngineProcess, returncode: number | null): void {
    const { host, timings } = this.options;
    const index = this.live.indexOf(engine);
    if (index >= 0) this.live.splice(index, 1);
    const code = returncode === null ? 'unknown' : String(returncode);
    if (engine.isStopping) {
      host.log.system(`[platform] engine v${engine.record.version} pid ${engine.pid} stopped (code ${code})`);
    } else {
      host.log.system(`[monitor] FATAL: SGLang died (code ${code})`);
      if (engine.record.version === host.currentVersion() && !this.isClosedFlag) {
        this.consecutiveCrashes += 1;
        const delayMs = Math.min(
          timings.replaceDelayMs * 2 ** (this.consecutiveCrashes - 1),
          timings.maxReplaceDelayMs,
        );
        this.crashPending = { version: engine.record.version, replaceAtMs: Date.now() + delayMs };
        host.log.system(`[monitor] container exits (os._exit(1)); replacement in ${delayMs} ms`);
      }
    }
    host.onExited();
    this.notify();
  }
}
