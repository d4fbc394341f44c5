import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Spec } from '../../spec/schema';
import type { Deployment, LogLine } from '../platform';
import { AppLog } from './app-log';
import { AppRouter, type RouteDecision } from './app-router';
import { type AppCounters, type AppState, type VersionRecord, writeAppState } from './app-state';
import type { EngineCommand, EngineCommandInputs } from './engine-command';
import { EngineProcess, type EngineState } from './engine-process';
import { freePort } from '../../net/free-port';
import { NotFoundError } from './local-platform-errors';
import { ENGINE_ID_ENV, hasEnvMarker, terminateProcessGroup } from '../../process/process-identity';

/** Folders an engine starts with: the committed weights and the DeepGEMM cache for the spec's GPU. */
export interface EnginePaths {
  modelPath: string;
  kernelCacheDir: string;
}

/** How an app turns a spec into a running engine; injected so tests and the daemon wire real parts differently. */
export interface EngineFactory {
  /** Model and kernel-cache folders for a spec (LocalStorage by default). */
  resolveEnginePaths(spec: Spec): Promise<EnginePaths> | EnginePaths;
  /** The SGLang argv for a spec at a host and port (the spec builder). */
  buildArgv(spec: Spec, overrides: { modelPath: string; host: string; port: number; apiKey?: string }): string[];
  /** The API key value from the secret the spec names; held in memory only. */
  resolveApiKey(spec: Spec): string;
  engineCommand(spec: Spec, inputs: EngineCommandInputs): EngineCommand;
}

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
}

/** One engine as status reports it. */
export interface EngineStatus {
  pid: number;
  port: number;
  version: number;
  state: EngineState | 'stopping';
  inFlight: number;
  startedAt: string;
}

/** One app as status reports it. */
export interface AppStatus {
  app: string;
  url: string;
  routerPort: number;
  currentVersion: number | null;
  minContainers: number;
  maxContainers: number;
  engines: EngineStatus[];
  counters: AppCounters;
  /** Set when the recorded router port was taken and the router moved. */
  portNote?: string;
}

interface PendingStart {
  version: number;
  reserved: number;
  engine: Promise<EngineProcess | undefined>;
}

interface CrashPending {
  version: number;
  replaceAtMs: number;
}

/** Resolves when the signal aborts (never without one), for racing against a hold. */
function clientGone(signal: AbortSignal | undefined): Promise<'client-gone'> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve('client-gone');
    else signal.addEventListener('abort', () => resolve('client-gone'), { once: true });
  });
}

/**
 * One app on the local platform, with Modal's endpoint semantics: versions (deploy, history, rollback, stop), a
 * router on a stable port, engines started on demand and held requests (cold start), scale-to-zero after
 * `scaledownWindow` idle, `minContainers` kept warm, spill to a new engine at `maxInputs` in flight up to
 * `maxContainers`, and a crash monitor that answers 502 while an engine is down and then replaces it.
 */
export class ServingApp {
  private readonly engines: EngineProcess[] = [];
  private readonly pendingStarts: PendingStart[] = [];
  private crashPending: CrashPending | undefined;
  private consecutiveCrashes = 0;
  private readonly changes = new EventEmitter();
  private readonly apiKeys = new Set<string>();
  private readonly log: AppLog;
  private readonly router: AppRouter;
  private ticker: NodeJS.Timeout | undefined;
  private isDirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private portNote: string | undefined;

  private constructor(
    private readonly dir: string,
    private state: AppState,
    private readonly factory: EngineFactory,
    private readonly timings: ServingTimings,
    private readonly owner: string,
    private readonly daemonLog: (text: string) => void,
  ) {
    this.changes.setMaxListeners(0);
    this.log = new AppLog(dir, (text) => this.redact(text));
    this.router = new AppRouter({
      route: (signal) => this.route(signal),
      onBadGateway: (reason) => {
        this.state.counters.badGateway502 += 1;
        this.log.system(`[router] 502 Bad Gateway: ${reason}`);
        this.markDirty();
      },
    });
  }

  /**
   * Opens an app from its state: binds its router (on the recorded port when free) and adopts engines that are
   * still alive and serve the current version; other leftovers are killed.
   */
  static async open(options: {
    dir: string;
    state: AppState;
    factory: EngineFactory;
    timings: ServingTimings;
    owner: string;
    daemonLog: (text: string) => void;
  }): Promise<ServingApp> {
    const app = new ServingApp(
      options.dir,
      options.state,
      options.factory,
      options.timings,
      options.owner,
      options.daemonLog,
    );
    await app.bindRouter();
    await app.adoptEngines();
    app.saveNow();
    app.ticker = setInterval(() => app.tick(), options.timings.tickMs);
    app.ticker.unref();
    return app;
  }

  get name(): string {
    return this.state.app;
  }

  /** Engine pids this app owns (live or stopping), so the daemon can tell leftovers apart. */
  enginePids(): number[] {
    return this.engines.map((engine) => engine.pid);
  }

  /** Records a new version and routes traffic to it; the same rolloutId returns the version it created. */
  deploy(spec: Spec, rolloutId: string): Deployment {
    const existing = this.state.versions.find((v) => v.rolloutId === rolloutId);
    if (existing) return this.toDeployment(existing);
    const version = Math.max(0, ...this.state.versions.map((v) => v.version)) + 1;
    const record: VersionRecord = { version, rolloutId, spec, deployedAt: new Date().toISOString() };
    this.state.versions.push(record);
    this.switchTo(version);
    this.state.minContainersOverride = null;
    this.log.system(`[platform] deployed v${version} (rollout ${rolloutId}); router now serves v${version}`);
    this.saveNow();
    this.tick();
    return this.toDeployment(record);
  }

  /** Routes traffic back to an existing version; NotFoundError names the app and version otherwise. */
  rollback(version: number): Deployment {
    const record = this.state.versions.find((v) => v.version === version);
    if (!record) {
      const known = this.state.versions.map((v) => `v${v.version}`).join(', ') || 'none';
      throw new NotFoundError(
        `app "${this.name}" has no version ${version} (versions: ${known}): roll back to one listed by history`,
      );
    }
    if (this.state.currentVersion !== version) {
      this.switchTo(version);
      this.log.system(`[platform] rolled back to v${version}`);
      this.saveNow();
      this.tick();
    }
    return this.toDeployment(record);
  }

  /** Stops every engine and routes nothing; the router answers 503 until the next deploy or rollback. */
  async stop(): Promise<void> {
    this.state.currentVersion = null;
    this.crashPending = undefined;
    this.log.system('[platform] app stopped');
    this.saveNow();
    await Promise.all(this.engines.map((engine) => this.stopEngine(engine, 'app stopped')));
    this.changes.emit('change');
  }

  /** Keeps n engines of the current version warm (Modal's update_autoscaler); reset by the next deploy. */
  setMinContainers(minContainers: number): void {
    this.state.minContainersOverride = minContainers;
    this.log.system(`[platform] min containers set to ${minContainers}`);
    this.saveNow();
    this.tick();
  }

  /** The version traffic goes to, or null before a deploy and after stop. */
  currentDeployment(): Deployment | null {
    const record = this.currentRecord();
    return record ? this.toDeployment(record) : null;
  }

  /** Every version, oldest first. */
  history(): Deployment[] {
    return this.state.versions.map((record) => this.toDeployment(record));
  }

  /** The router's URL. */
  url(): string {
    return `http://127.0.0.1:${this.state.routerPort}`;
  }

  /** Captured engine and system lines. */
  logs(options: { since?: string; limit?: number }): LogLine[] {
    return this.log.read(options);
  }

  /** A platform line in the app's log (adoption notes from the daemon). */
  systemLog(text: string): void {
    this.log.system(text);
  }

  /** What status shows for this app. */
  status(): AppStatus {
    const spec = this.currentRecord()?.spec;
    return {
      app: this.name,
      url: this.url(),
      routerPort: this.state.routerPort,
      currentVersion: this.state.currentVersion,
      minContainers: this.minContainers(),
      maxContainers: spec?.modal.maxContainers ?? 0,
      engines: this.engines.map((engine) => ({
        pid: engine.pid,
        port: engine.port,
        version: engine.record.version,
        state: engine.isStopping && engine.state !== 'exited' ? 'stopping' : engine.state,
        inFlight: engine.inFlight,
        startedAt: engine.record.startedAt,
      })),
      counters: { ...this.state.counters },
      ...(this.portNote ? { portNote: this.portNote } : {}),
    };
  }

  /**
   * Closes the router. With `stopEngines` (platform down), engines are stopped too; without it (tests that
   * simulate a killed daemon), they keep running for the next daemon to adopt.
   */
  async close(options: { stopEngines: boolean }): Promise<void> {
    this.isClosed = true;
    if (this.ticker) clearInterval(this.ticker);
    if (options.stopEngines) {
      await Promise.all(this.engines.map((engine) => this.stopEngine(engine, 'platform shutting down')));
    }
    await this.router.close();
    this.saveNow();
    this.changes.emit('change');
  }

  private currentRecord(): VersionRecord | undefined {
    return this.state.versions.find((v) => v.version === this.state.currentVersion);
  }

  private minContainers(): number {
    const spec = this.currentRecord()?.spec;
    if (!spec) return 0;
    return Math.min(this.state.minContainersOverride ?? spec.modal.minContainers, spec.modal.maxContainers);
  }

  private switchTo(version: number): void {
    this.state.currentVersion = version;
    this.crashPending = undefined;
    this.consecutiveCrashes = 0;
    this.changes.emit('change');
  }

  private toDeployment(record: VersionRecord): Deployment {
    return {
      app: this.name,
      version: record.version,
      rolloutId: record.rolloutId,
      spec: record.spec,
      deployedAt: record.deployedAt,
      isCurrent: record.version === this.state.currentVersion,
    };
  }

  private redact(text: string): string {
    let out = text;
    for (const key of this.apiKeys) if (key) out = out.split(key).join('***');
    return out;
  }

  private async bindRouter(): Promise<void> {
    const preferred = this.state.routerPort;
    const { port, wasPreferredTaken } = await this.router.listen(preferred);
    if (wasPreferredTaken) {
      this.portNote = `router port ${preferred} was taken; app "${this.name}" moved to port ${port}`;
      this.log.system(`[platform] ${this.portNote}`);
      this.daemonLog(this.portNote);
    }
    this.state.routerPort = port;
  }

  private async adoptEngines(): Promise<void> {
    const records = this.state.engines;
    this.state.engines = [];
    for (const record of records) {
      if (!hasEnvMarker(record.pid, ENGINE_ID_ENV, record.engineId)) continue;
      const spec = this.state.versions.find((v) => v.version === record.version)?.spec;
      if (record.version === this.state.currentVersion && spec) {
        const engine = EngineProcess.adopt(record, this.observer(), this.apiKeyFor(spec));
        this.engines.push(engine);
        this.log.system(`[platform] adopted engine v${record.version} pid ${record.pid} on port ${record.port}`);
      } else {
        await terminateProcessGroup(record.pid, this.timings.stopGraceMs);
        this.log.system(
          `[platform] killed leftover engine v${record.version} pid ${record.pid} (not the current version)`,
        );
      }
    }
  }

  private apiKeyFor(spec: Spec): string {
    const key = this.factory.resolveApiKey(spec);
    this.apiKeys.add(key);
    return key;
  }

  private observer() {
    return {
      onOutput: (stream: 'stdout' | 'stderr', lines: string[]) => {
        this.log.append(stream, lines);
        this.markDirty();
      },
      onReady: (engine: EngineProcess) => {
        this.consecutiveCrashes = 0;
        const loadMs = Date.now() - engine.startedAtMs;
        this.log.system(`[platform] engine v${engine.record.version} pid ${engine.pid} ready after ${loadMs} ms`);
        this.changes.emit('change');
      },
      onExit: (engine: EngineProcess, returncode: number | null) => this.onEngineExit(engine, returncode),
    };
  }

  private onEngineExit(engine: EngineProcess, returncode: number | null): void {
    const index = this.engines.indexOf(engine);
    if (index >= 0) this.engines.splice(index, 1);
    const code = returncode === null ? 'unknown' : String(returncode);
    if (engine.isStopping) {
      this.log.system(`[platform] engine v${engine.record.version} pid ${engine.pid} stopped (code ${code})`);
    } else {
      this.log.system(`[monitor] FATAL: SGLang died (code ${code})`);
      const isCurrent = engine.record.version === this.state.currentVersion && !this.isClosed;
      if (isCurrent) {
        this.consecutiveCrashes += 1;
        const delayMs = Math.min(
          this.timings.replaceDelayMs * 2 ** (this.consecutiveCrashes - 1),
          this.timings.maxReplaceDelayMs,
        );
        this.crashPending = { version: engine.record.version, replaceAtMs: Date.now() + delayMs };
        this.log.system(`[monitor] container exits (os._exit(1)); replacement in ${delayMs} ms`);
      }
    }
    this.saveNow();
    this.changes.emit('change');
  }

  private async stopEngine(engine: EngineProcess, reason: string): Promise<void> {
    if (engine.isStopping && engine.state === 'exited') return;
    if (!engine.isStopping) this.log.system(`[platform] stopping engine pid ${engine.pid}: ${reason}`);
    await engine.stop(this.timings.stopGraceMs);
  }

  /** Starts an engine for a version; resolves undefined (and logs why) when it cannot start. */
  private startEngine(version: number, reason: string): PendingStart {
    const pending: PendingStart = { version, reserved: 0, engine: Promise.resolve(undefined) };
    pending.engine = this.spawnEngine(version, reason).finally(() => {
      this.pendingStarts.splice(this.pendingStarts.indexOf(pending), 1);
      this.changes.emit('change');
    });
    this.pendingStarts.push(pending);
    return pending;
  }

  private async spawnEngine(version: number, reason: string): Promise<EngineProcess | undefined> {
    const record = this.state.versions.find((v) => v.version === version);
    if (!record) return undefined;
    try {
      const spec = record.spec;
      const port = await freePort();
      if (this.isClosed || this.state.currentVersion !== version) return undefined;
      const apiKey = this.apiKeyFor(spec);
      const { modelPath, kernelCacheDir } = await this.factory.resolveEnginePaths(spec);
      const argv = this.factory.buildArgv(spec, { modelPath, host: '127.0.0.1', port, apiKey });
      const command = this.factory.engineCommand(spec, { sglangArgv: argv, kernelCacheDir });
      const engineId = randomUUID();
      const engine = EngineProcess.spawn(
        command,
        {
          engineId,
          owner: this.owner,
          port,
          version,
          startedAt: new Date().toISOString(),
          stdoutPath: path.join(this.dir, `engine-${engineId}.stdout`),
          stderrPath: path.join(this.dir, `engine-${engineId}.stderr`),
        },
        this.observer(),
        apiKey,
      );
      if (engine.state !== 'exited') this.engines.push(engine);
      this.state.counters.coldStarts += 1;
      this.log.system(`[platform] starting engine v${version} pid ${engine.pid} on port ${port} (${reason})`);
      this.saveNow();
      return engine;
    } catch (err) {
      this.log.system(`[platform] could not start engine v${version}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Picks or cold-starts an engine for one request, holding it up to the startup timeout. */
  private async route(signal?: AbortSignal): Promise<RouteDecision> {
    const record = this.currentRecord();
    const startupTimeoutMs = (record?.spec.health.startupTimeout ?? 0) * 1000;
    const deadlineMs = Date.now() + startupTimeoutMs;
    for (;;) {
      const current = this.currentRecord();
      if (!current || this.isClosed) {
        return { status: 503, message: `app "${this.name}" is stopped or has no deployment: deploy it first` };
      }
      const { maxInputs, maxContainers } = current.spec.modal;
      const live = this.engines.filter((e) => e.record.version === current.version && !e.isStopping);
      const ready = live
        .filter((e) => e.state === 'ready' && e.inFlight < maxInputs)
        .sort((a, b) => a.inFlight - b.inFlight)[0];
      if (ready) return this.lease(ready);
      if (this.crashPending?.version === current.version) {
        return { status: 502, message: `bad gateway: the engine of "${this.name}" died; a replacement is coming` };
      }
      const starting = live.find((e) => e.state === 'starting' && e.inFlight < maxInputs);
      if (starting) return this.hold(starting, deadlineMs, signal);
      let pending = this.pendingStarts.find((p) => p.version === current.version && p.reserved < maxInputs);
      const pendingCount = this.pendingStarts.filter((p) => p.version === current.version).length;
      if (!pending && live.length + pendingCount < maxContainers)
        pending = this.startEngine(current.version, 'cold start');
      if (pending) {
        pending.reserved += 1;
        const engine = await pending.engine;
        pending.reserved -= 1;
        if (engine && engine.state !== 'exited') return this.hold(engine, deadlineMs, signal);
        if (engine) return this.diedWhileLoading(engine);
        return { status: 503, message: `app "${this.name}": the engine could not be started (see logs)` };
      }
      if (!(await this.waitForChange(deadlineMs - Date.now()))) {
        return {
          status: 503,
          message: `app "${this.name}": all ${maxContainers} containers busy past the startup timeout`,
        };
      }
    }
  }

  private async hold(engine: EngineProcess, deadlineMs: number, signal?: AbortSignal): Promise<RouteDecision> {
    engine.inFlight += 1;
    engine.lastActiveAtMs = Date.now();
    const outcome = await Promise.race([engine.settled(deadlineMs - Date.now()), clientGone(signal)]);
    if (outcome === 'ready') return this.leaseCounted(engine);
    engine.inFlight -= 1;
    this.changes.emit('change');
    if (outcome === 'client-gone') return { status: 499, message: 'client closed the request while it was held' };
    if (outcome === 'exited') return this.diedWhileLoading(engine);
    const timeoutS = (deadlineMs - engine.startedAtMs) / 1000;
    return {
      status: 503,
      message: `app "${this.name}": no engine became healthy within the startup timeout (${timeoutS.toFixed(1)} s)`,
    };
  }

  private diedWhileLoading(engine: EngineProcess): RouteDecision {
    const code = engine.returncode === null || engine.returncode === undefined ? 'unknown' : engine.returncode;
    return { status: 502, message: `bad gateway: the engine of "${this.name}" died while loading (code ${code})` };
  }

  private lease(engine: EngineProcess): RouteDecision {
    engine.inFlight += 1;
    return this.leaseCounted(engine);
  }

  private leaseCounted(engine: EngineProcess): RouteDecision {
    engine.lastActiveAtMs = Date.now();
    return {
      lease: {
        port: engine.port,
        release: () => {
          engine.inFlight -= 1;
          engine.lastActiveAtMs = Date.now();
          this.changes.emit('change');
        },
      },
    };
  }

  private waitForChange(timeoutMs: number): Promise<boolean> {
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

  /** Scale-down, drain of old versions, startup timeouts, min containers and crash replacement. */
  private tick(): void {
    if (this.isClosed) return;
    const now = Date.now();
    const current = this.currentRecord();
    for (const engine of this.engines) {
      if (engine.isStopping) continue;
      if (!current || engine.record.version !== current.version) {
        if (engine.inFlight === 0)
          void this.stopEngine(engine, `drained; v${engine.record.version} is no longer current`);
        continue;
      }
      const startupTimeoutMs = current.spec.health.startupTimeout * 1000;
      if (engine.state === 'starting' && now - engine.startedAtMs > startupTimeoutMs && engine.inFlight === 0) {
        void this.stopEngine(engine, `not healthy within startupTimeout ${current.spec.health.startupTimeout} s`);
      }
    }
    if (!current) return;
    const version = current.version;
    const live = this.engines.filter((e) => e.record.version === version && !e.isStopping);
    const idleMs = current.spec.modal.scaledownWindow * 1000;
    const idle = live
      .filter((e) => e.state === 'ready' && e.inFlight === 0 && now - e.lastActiveAtMs >= idleMs)
      .sort((a, b) => a.lastActiveAtMs - b.lastActiveAtMs)[0];
    if (idle && live.length > this.minContainers()) {
      void this.stopEngine(idle, `scaled down after ${current.spec.modal.scaledownWindow} s idle`);
      return;
    }
    if (this.crashPending?.version === version) {
      if (now < this.crashPending.replaceAtMs) return;
      this.crashPending = undefined;
      this.state.counters.replacements += 1;
      this.startEngine(version, 'replacement after crash');
      this.markDirty();
      return;
    }
    const pendingCount = this.pendingStarts.filter((p) => p.version === version).length;
    if (live.length + pendingCount < this.minContainers()) this.startEngine(version, 'min containers');
  }

  private markDirty(): void {
    this.isDirty = true;
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      if (this.isDirty) this.saveNow();
    }, 200);
    this.saveTimer.unref();
  }

  private saveNow(): void {
    this.isDirty = false;
    this.state.engines = this.engines.filter((e) => e.state !== 'exited').map((e) => e.snapshot());
    writeAppState(this.dir, this.state);
  }
}
