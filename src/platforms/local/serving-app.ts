import type { Spec } from '../../spec/schema';
import type { Deployment, LogLine } from '../platform';
import { AppLog } from './app-log';
import { AppRouter } from './app-router';
import { type AppCounters, type AppState, writeAppState } from './app-state';
import { decide } from './autoscaler';
import type { EngineFactory } from './engine-factory';
import { EnginePool, type PendingStart, type ServingTimings } from './engine-pool';
import type { EngineState } from './engine-process';
import { RequestPlacement } from './request-placement';
import { VersionRegistry } from './version-registry';

export type { ServingTimings } from './engine-pool';

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

/** A burst of output is saved once, not per line. */
const SAVE_DEBOUNCE_MS = 200;

/**
 * One app on the local platform, with Modal's endpoint semantics: versions (deploy, history, rollback, stop), a
 * router on a stable port, engines started on demand and held requests (cold start), scale-to-zero after
 * `scaledownWindow` idle, `minContainers` kept warm, spill to a new engine at `maxInputs` in flight up to
 * `maxContainers`, and a crash monitor that answers 502 while an engine is down and then replaces it.
 * It wires the parts: the {@link VersionRegistry}, the {@link EnginePool}, the {@link RequestPlacement} behind the
 * router, and the autoscaler's {@link decide}, run on a ticker and whenever the versions change; and it saves the
 * state so a restarted daemon resumes the app.
 */
export class ServingApp {
  private readonly versions: VersionRegistry;
  private readonly pool: EnginePool;
  private readonly log: AppLog;
  private readonly router: AppRouter;
  private ticker: NodeJS.Timeout | undefined;
  private isDirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private portNote: string | undefined;

  private constructor(
    private readonly dir: string,
    private readonly state: AppState,
    factory: EngineFactory,
    timings: ServingTimings,
    owner: string,
    private readonly daemonLog: (text: string) => void,
  ) {
    this.versions = new VersionRegistry(state);
    this.log = new AppLog(dir, (text) => this.pool.redact(text));
    this.pool = new EnginePool({
      dir,
      owner,
      factory,
      timings,
      host: {
        log: this.log,
        specOf: (version) => this.versions.find(version)?.spec,
        currentVersion: () => this.versions.currentVersion,
        onStarted: () => {
          this.state.counters.coldStarts += 1;
          this.saveNow();
        },
        onExited: () => this.saveNow(),
        onOutput: () => this.markDirty(),
      },
    });
    const placement = new RequestPlacement(this.versions, this.pool, () => this.scale(1));
    this.router = new AppRouter({
      route: (signal) => placement.route(signal),
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
    const records = app.state.engines;
    app.state.engines = [];
    await app.pool.adopt(records);
    app.saveNow();
    app.ticker = setInterval(() => app.scale(0), options.timings.tickMs);
    app.ticker.unref();
    return app;
  }

  get name(): string {
    return this.versions.app;
  }

  /** Engine pids this app owns (live or stopping), so the daemon can tell leftovers apart. */
  enginePids(): number[] {
    return this.pool.engines.map((engine) => engine.pid);
  }

  /** Records a new version and routes traffic to it; the same rolloutId returns the version it created. */
  deploy(spec: Spec, rolloutId: string): Deployment {
    const existing = this.versions.byRollout(rolloutId);
    if (existing) return this.versions.toDeployment(existing);
    const record = this.versions.add(spec, rolloutId);
    this.pool.resetCrashes();
    this.log.system(
      `[platform] deployed v${record.version} (rollout ${rolloutId}); router now serves v${record.version}`,
    );
    this.saveNow();
    this.scale(0);
    return this.versions.toDeployment(record);
  }

  /** Routes traffic back to an existing version; NotFoundError names the app and version otherwise. */
  rollback(version: number): Deployment {
    const record = this.versions.require(version);
    if (this.versions.currentVersion !== version) {
      this.versions.setCurrent(version);
      this.pool.resetCrashes();
      this.log.system(`[platform] rolled back to v${version}`);
      this.saveNow();
      this.scale(0);
    }
    return this.versions.toDeployment(record);
  }

  /** Stops every engine and routes nothing; the router answers 503 until the next deploy or rollback. */
  async stop(): Promise<void> {
    this.versions.setCurrent(null);
    this.pool.clearCrash();
    this.log.system('[platform] app stopped');
    this.saveNow();
    await this.pool.stopAll('app stopped');
    this.pool.notify();
  }

  /** Keeps n engines of the current version warm (Modal's update_autoscaler); reset by the next deploy. */
  setMinContainers(minContainers: number): void {
    this.versions.setMinContainersOverride(minContainers);
    this.log.system(`[platform] min containers set to ${minContainers}`);
    this.saveNow();
    this.scale(0);
  }

  /** The version traffic goes to, or null before a deploy and after stop. */
  currentDeployment(): Deployment | null {
    const record = this.versions.current();
    return record ? this.versions.toDeployment(record) : null;
  }

  /** Every version, oldest first. */
  history(): Deployment[] {
    return this.versions.history();
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
    const spec = this.versions.current()?.spec;
    return {
      app: this.name,
      url: this.url(),
      routerPort: this.state.routerPort,
      currentVersion: this.versions.currentVersion,
      minContainers: this.versions.minContainers(),
      maxContainers: spec?.modal.maxContainers ?? 0,
      engines: this.pool.engines.map((engine) => ({
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
    this.pool.close();
    if (this.ticker) clearInterval(this.ticker);
    if (options.stopEngines) await this.pool.stopAll('platform shutting down');
    await this.router.close();
    this.saveNow();
    this.pool.notify();
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

  /**
   * Runs the autoscaler on the pool as it is now and carries out what it decided: on the ticker and after a
   * version change with no request waiting, and from the router for a request nothing had room for.
   * Returns the engine start it made, so that request can wait for it.
   */
  private scale(unplacedRequests: number): PendingStart | undefined {
    if (this.pool.isClosed) return undefined;
    const fleet = {
      engines: this.pool.engines
        .filter((engine) => !engine.isStopping)
        .map((engine) => ({
          engine,
          version: engine.record.version,
          state: engine.state,
          inFlight: engine.inFlight,
          lastActiveAtMs: engine.lastActiveAtMs,
          startedAtMs: engine.startedAtMs,
        })),
      pendingStarts: this.pool.pendingStarts,
      ...(this.pool.crash ? { crash: this.pool.crash } : {}),
      unplacedRequests,
    };
    const scaling = this.versions.scalingSpec();
    let started: PendingStart | undefined;
    for (const action of decide(Date.now(), fleet, scaling)) {
      if (action.kind === 'stop') {
        void this.pool.stop(action.engine.engine, action.reason);
      } else if (scaling) {
        if (action.reason === 'replacement after crash') {
          this.pool.clearCrash();
          this.state.counters.replacements += 1;
          this.markDirty();
        }
        started = this.pool.start(scaling.version, action.reason);
      }
    }
    return started;
  }

  private markDirty(): void {
    this.isDirty = true;
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      if (this.isDirty) this.saveNow();
    }, SAVE_DEBOUNCE_MS);
    this.saveTimer.unref();
  }

  private saveNow(): void {
    this.isDirty = false;
    this.state.engines = this.pool.snapshot();
    writeAppState(this.dir, this.state);
  }
}
