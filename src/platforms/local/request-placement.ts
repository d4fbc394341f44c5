import type { RouteDecision } from './app-router';
import type { EngineProcess } from './engine-process';
import type { EnginePool, PendingStart } from './engine-pool';
import type { VersionRegistry } from './version-registry';

/** Resolves when the signal aborts (never without one), for racing against a hold. */
function clientGone(signal: AbortSignal | undefined): Promise<'client-gone'> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve('client-gone');
    else signal.addEventListener('abort', () => resolve('client-gone'), { once: true });
  });
}

/**
 * Places one request on an engine, as a Modal endpoint does. During a rolling deploy, while the current version has
 * no ready engine, requests go to the version still serving (its engines are alive and ready), so no user waits
 * through the new version's cold start or sees its crash. Otherwise, on the current version: the least busy ready
 * engine with room (under maxInputs), else a 502 while a crashed container is down, else a hold on a loading engine or
 * on a start under way; with none of those, the autoscaler is asked (it cold-starts one up to maxContainers), and
 * otherwise the request waits for a change until the startup timeout. A request pinned to a version (the rollout's
 * probes of the candidate) goes to that version's engines only.
 */
export class RequestPlacement {
  constructor(
    private readonly versions: VersionRegistry,
    private readonly pool: EnginePool,
    /** Runs the autoscaler for requests nothing has room for; returns the start it made, if any. */
    private readonly scaleForUnplaced: () => PendingStart | undefined,
  ) {}

  async route(signal?: AbortSignal, pinnedVersion?: number): Promise<RouteDecision> {
    const current = this.versions.currentVersion;
    const version = pinnedVersion ?? this.unpinnedVersion();
    if (version === null || version === current) return this.routeToCurrent(signal);
    return this.routeToKept(version, pinnedVersion !== undefined, signal);
  }

  /** The serving version while it still has a ready engine and the current one has none; else the current one. */
  private unpinnedVersion(): number | null {
    const current = this.versions.currentVersion;
    const serving = this.versions.servingVersion;
    if (serving === null || serving === current) return current;
    const hasReady = (version: number): boolean => this.pool.liveOf(version).some((e) => e.state === 'ready');
    if (current !== null && hasReady(current)) return current;
    return hasReady(serving) ? serving : current;
  }

  /**
   * A request for a version that is not current but kept (still serving during a rolling deploy, or retained for a
   * rollback): placed on its ready engines, never starting one; 409 for a version the app does not keep running.
   */
  private async routeToKept(version: number, isPinned: boolean, signal?: AbortSignal): Promise<RouteDecision> {
    const app = this.versions.app;
    const startupTimeoutMs = (this.versions.find(version)?.spec.health.startupTimeout ?? 0) * 1000;
    const deadlineMs = Date.now() + startupTimeoutMs;
    for (;;) {
      const record = this.versions.find(version);
      const ready = this.pool.liveOf(version).filter((e) => e.state === 'ready');
      if (!record || ready.length === 0 || this.pool.isClosed) {
        const current = this.versions.currentVersion;
        return {
          status: 409,
          version,
          message:
            `app "${app}" runs no engine of v${version} (current: ${current === null ? 'none' : `v${current}`}): ` +
            'send the request without a version to reach the one serving',
        };
      }
      const withRoom = ready
        .filter((e) => e.inFlight < record.spec.modal.maxInputs)
        .sort((a, b) => a.inFlight - b.inFlight)[0];
      if (withRoom) return this.lease(withRoom);
      const isChanged = await Promise.race([this.pool.waitForChange(deadlineMs - Date.now()), clientGone(signal)]);
      if (isChanged === 'client-gone') return { status: 499, message: 'client closed the request while it was held' };
      if (!isChanged) {
        return {
          status: 503,
          version,
          message: `app "${app}": every engine of v${version} busy past the startup timeout`,
        };
      }
      // Traffic moved to the new version while this request waited for room: it goes there too.
      if (!isPinned && this.unpinnedVersion() !== version) return this.route(signal);
    }
  }

  private async routeToCurrent(signal?: AbortSignal): Promise<RouteDecision> {
    const app = this.versions.app;
    const startupTimeoutMs = (this.versions.current()?.spec.health.startupTimeout ?? 0) * 1000;
    const deadlineMs = Date.now() + startupTimeoutMs;
    for (;;) {
      const current = this.versions.current();
      if (!current || this.pool.isClosed) {
        return { status: 503, message: `app "${app}" is stopped or has no deployment: deploy it first` };
      }
      const { maxInputs, maxContainers } = current.spec.modal;
      const live = this.pool.liveOf(current.version);
      const ready = live
        .filter((e) => e.state === 'ready' && e.inFlight < maxInputs)
        .sort((a, b) => a.inFlight - b.inFlight)[0];
      if (ready) return this.lease(ready);
      if (this.pool.crash?.version === current.version) {
        return {
          status: 502,
          version: current.version,
          message: `bad gateway: the engine of "${app}" died; a replacement is coming`,
        };
      }
      const starting = live.find((e) => e.state === 'starting' && e.inFlight < maxInputs);
      if (starting) return this.hold(starting, deadlineMs, signal);
      const pending =
        this.pool.pendingStarts.find((p) => p.version === current.version && p.reserved < maxInputs) ??
        this.scaleForUnplaced();
      if (pending) {
        pending.reserved += 1;
        const engine = await pending.engine;
        pending.reserved -= 1;
        if (engine && engine.state !== 'exited') return this.hold(engine, deadlineMs, signal);
        if (engine) return this.diedWhileLoading(engine);
        return { status: 503, message: `app "${app}": the engine could not be started (see logs)` };
      }
      if (!(await this.pool.waitForChange(deadlineMs - Date.now()))) {
        return { status: 503, message: `app "${app}": all ${maxContainers} containers busy past the startup timeout` };
      }
    }
  }

  private async hold(engine: EngineProcess, deadlineMs: number, signal?: AbortSignal): Promise<RouteDecision> {
    engine.inFlight += 1;
    engine.lastActiveAtMs = Date.now();
    const outcome = await Promise.race([engine.settled(deadlineMs - Date.now()), clientGone(signal)]);
    if (outcome === 'ready') return this.leaseCounted(engine);
    engine.inFlight -= 1;
    this.pool.notify();
    if (outcome === 'client-gone') return { status: 499, message: 'client closed the request while it was held' };
    if (outcome === 'exited') return this.diedWhileLoading(engine);
    const timeoutS = (deadlineMs - engine.startedAtMs) / 1000;
    return {
      status: 503,
      message:
        `app "${this.versions.app}": no engine became healthy within the startup timeout ` +
        `(${timeoutS.toFixed(1)} s)`,
    };
  }

  private diedWhileLoading(engine: EngineProcess): RouteDecision {
    const code = engine.returncode === null || engine.returncode === undefined ? 'unknown' : engine.returncode;
    return {
      status: 502,
      version: engine.record.version,
      message: `bad gateway: the engine of "${this.versions.app}" died while loading (code ${code})`,
    };
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
        version: engine.record.version,
        release: () => {
          engine.inFlight -= 1;
          engine.lastActiveAtMs = Date.now();
          this.pool.notify();
        },
      },
    };
  }
}
