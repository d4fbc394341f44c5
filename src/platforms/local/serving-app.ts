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
  /** The version unpinned traffic goes to (the previous one while the current has no ready engine yet). */
  servingVersion: number | null;
  /** The version kept alive for an instant rollback, if any. */
  retainedVersion: number | null;
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
 * `maxContainers`, a crash monitor that answers 502 while an engine is down and then replaces it, and rolling
 * deploys (the old version serves until the new one is ready, then is kept for an instant rollback).
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
  private readonly retainPreviousMs: number | undefined;

  private constructor(
    private readonly dir: string,
    private readonly state: AppState,
    factory: EngineFactory,
    timings: ServingTimings,
    owner: string,
    private readonly daemonLog: (text: string) => void,
  ) {
    this.versions = new VersionRegistry(state);
    this.retainPreviousMs = timings.retainPreviousMs;
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
        keepsVersion: (version) => this.versions.keptVersions().includes(version),
        onReady: (engine) => {
          if (engine.record.version === this.versions.currentVersion) this.cutOver();
        },
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
      route: (signal, pinnedVersion) => placement.route(signal, pinnedVersion),
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

  /**
   * Records a new version, as a rolling deploy does: its engines start while the version serving now keeps every
   * request, traffic moves when a new engine is ready, and the old version's engines are then retained (alive, not
   * routed) so a rollback to it is instant, until {@link retirePrevious} (the new version verified), the bounded
   * retention or the next deploy. The same rolloutId returns the version it created.
   */
  deploy(spec: Spec, rolloutId: string): Deployment {
    const existing = this.versions.byRollout(rolloutId);
    if (existing) return this.versions.toDeployment(existing);
    const leaving = this.versions.servingVersion;
    const record = this.versions.add(spec, rolloutId);
    this.pool.resetCrashes();
    if (leaving !== null && this.hasReadyEngine(leaving)) {
      // Only the last version is kept: an older retained one is drained by the autoscaler now.
      this.versions.setServing(leaving);
      this.versions.setRetained({ version: leaving, untilMs: null });
      this.log.system(
        `[platform] deployed v${record.version} (rollout ${rolloutId}); v${leaving} keeps serving until ` +
          `v${record.version} is ready`,
      );
    } else {
      this.versions.setServing(null);
      this.versions.setRetained(null);
      this.log.system(
        `[platform] deployed v${record.version} (rollout ${rolloutId}); router now serves v${record.version}`,
      );
    }
    this.saveNow();
    this.scale(0);
    return this.versions.toDeployment(record);
  }

  /**
   * Routes traffic back to an existing version; NotFoundError names the app and version otherwise. A version whose
   * engines are still alive (retained) serves at once, with no cold start; otherwise the version serving now keeps
   * serving until the target is ready. The version left is not retained.
   */
  rollback(version: number): Deployment {
    const record = this.versions.require(version);
    if (this.versions.currentVersion !== version) {
      const leaving = this.versions.servingVersion;
      const isWarm = this.hasReadyEngine(version);
      this.versions.setCurrent(version);
      this.versions.setRetained(null);
      this.versions.setServing(!isWarm && leaving !== null && this.hasReadyEngine(leaving) ? leaving : null);
      this.pool.resetCrashes();
      this.log.system(
        isWarm
          ? `[platform] rolled back to v${version} (its engines were still running: no cold start)`
          : `[platform] rolled back to v${version}`,
      );
      this.saveNow();
      this.scale(0);
    }
    return this.versions.toDeployment(record);
  }

  /**
   * Stops keeping the previous version: the current one passed its gates (the rollout verified it), so the engines
   * kept for an instant rollback are released. No-op when none are kept or they still serve.
   */
  retirePrevious(reason: string): void {
    const retained = this.versions.retained;
    if (!retained || this.versions.servingVersion === retained.version) return;
    this.versions.setRetained(null);
    this.log.system(`[platform] v${retained.version} no longer kept for rollback: ${reason}`);
    this.saveNow();
    this.scale(0);
  }

  /** Stops every engine and routes nothing; the router answers 503 until the next deploy or rollback. */
  async stop(): Promise<void> {
    this.versions.setCurrent(null);
    this.versions.setServing(null);
    this.versions.setRetained(null);
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
      servingVersion: this.versions.servingVersion,
      retainedVersion: this.versions.retained?.version ?? null,
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
    this.checkRollingDeploy();
    const current = this.versions.currentVersion;
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
      keptVersions: this.versions.keptVersions().filter((v) => v !== current),
    };
    const baseScaling = this.versions.scalingSpec();
    const serving = this.versions.servingVersion;
    // While the old version serves, start as many new engines as it runs (at least one) ahead of traffic.
    const scaling =
      baseScaling && serving !== null && serving !== current
        ? { ...baseScaling, rolloutContainers: Math.max(1, this.pool.liveOf(serving).length) }
        : baseScaling;
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

  /** Whether a version has an engine ready to take requests. */
  private hasReadyEngine(version: number): boolean {
    return this.pool.liveOf(version).some((engine) => engine.state === 'ready');
  }

  /**
   * Moves traffic to the current version once one of its engines is ready, and starts the retention clock of the
   * version it replaces. The engine's own /health decided it was ready (the pool polls it), so no user request waits
   * through its start.
   */
  private cutOver(): void {
    const current = this.versions.current();
    const serving = this.versions.servingVersion;
    if (!current || serving === current.version) return;
    this.versions.setServing(null);
    const retained = this.versions.retained;
    let kept = '';
    if (retained?.version === serving) {
      const retainMs = this.retentionMs(current.spec);
      this.versions.setRetained({ version: retained.version, untilMs: Date.now() + retainMs });
      kept = `; v${retained.version} kept (not routed) for an instant rollback until v${current.version} is verified or ${Math.round(retainMs / 1000)} s pass`;
    }
    this.log.system(`[platform] v${current.version} is ready; router now serves v${current.version}${kept}`);
    this.saveNow();
    this.pool.notify();
  }

  /**
   * How long the replaced version is kept after the new one serves when nothing verifies it: the longest the rollout's
   * gates can take (a health wait, warmup and smoke, each bounded by the spec), so GPUs are not held forever.
   */
  private retentionMs(spec: Spec): number {
    return this.retainPreviousMs ?? (spec.health.startupTimeout + 2 * spec.warmup.timeout) * 1000;
  }

  /** Cut-over a ready engine missed (adopted after a restart) and the end of a retention, run before each decision. */
  private checkRollingDeploy(): void {
    const current = this.versions.currentVersion;
    if (current !== null && this.versions.servingVersion !== current && this.hasReadyEngine(current)) this.cutOver();
    const retained = this.versions.retained;
    if (retained && retained.untilMs !== null && Date.now() >= retained.untilMs) {
      this.versions.setRetained(null);
      this.log.system(
        `[platform] v${retained.version} no longer kept for rollback: not verified within its retention; stopping its engines`,
      );
      this.saveNow();
    }
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
