import type { EngineState } from './engine-process';

/** What the autoscaler reads of one engine that is not stopping. */
export interface EngineView {
  version: number;
  state: EngineState;
  inFlight: number;
  lastActiveAtMs: number;
  startedAtMs: number;
}

/** An engine start under way (port, paths and spawn not done yet). */
export interface PendingStartView {
  version: number;
}

/** What the pool looks like at one instant. */
export interface Fleet<E extends EngineView> {
  /** Engines not asked to stop, of every version. */
  engines: readonly E[];
  pendingStarts: readonly PendingStartView[];
  /** Set while a crashed engine's container stays down: no replacement before `replaceAtMs`. */
  crash?: { version: number; replaceAtMs: number };
  /** Requests no engine and no pending start has room for (0 on a periodic tick). */
  unplacedRequests: number;
  /**
   * Other versions whose engines are kept as they are (the one still serving during a rolling deploy, the one retained
   * for an instant rollback): neither drained nor scaled down.
   */
  keptVersions?: readonly number[];
}

/** The autoscaling settings of the version traffic goes to (Modal's function options). */
export interface ScalingSpec {
  version: number;
  /** Effective floor: the override (update_autoscaler) or the spec's value, never above maxContainers. */
  minContainers: number;
  maxContainers: number;
  scaledownWindowS: number;
  startupTimeoutS: number;
  /**
   * Engines to start ahead of traffic while the previous version still serves (a rolling deploy: as many as it runs,
   * at least one, up to maxContainers); 0 once this version serves.
   */
  rolloutContainers?: number;
}

/** Why an engine starts; the words go into the app log. */
export type StartReason = 'cold start' | 'min containers' | 'replacement after crash' | 'new version';

/** One thing to do; the pool carries it out. */
export type ScalingAction<E> = { kind: 'stop'; engine: E; reason: string } | { kind: 'start'; reason: StartReason };

/**
 * The local platform's autoscaler, as Modal's behaves: drains engines of versions no longer current once idle (except
 * the kept ones: the version still serving during a rolling deploy and the one retained for a rollback), starts the
 * new version's engines ahead of traffic during a rolling deploy,
 * stops an engine not healthy within the startup timeout, scales down one engine idle past the scaledown window
 * (never below minContainers), replaces a crashed engine after its back-off, starts one engine for requests nothing
 * has room for (up to maxContainers) and keeps minContainers warm. Pure: `now` and the fleet in, actions out; one
 * start or one scale-down per decision, so a burst grows the pool one engine at a time as requests arrive.
 * `spec` is undefined when the app serves nothing (stopped, or never deployed).
 */
export function decide<E extends EngineView>(
  now: number,
  fleet: Fleet<E>,
  spec: ScalingSpec | undefined,
): Array<ScalingAction<E>> {
  const actions: Array<ScalingAction<E>> = [];
  const stopping = new Set<E>();
  const stop = (engine: E, reason: string): void => {
    stopping.add(engine);
    actions.push({ kind: 'stop', engine, reason });
  };
  const kept = new Set(fleet.keptVersions ?? []);
  for (const engine of fleet.engines) {
    if (spec && engine.version !== spec.version && kept.has(engine.version)) continue;
    if (!spec || engine.version !== spec.version) {
      if (engine.inFlight === 0) stop(engine, `drained; v${engine.version} is no longer current`);
      continue;
    }
    const isLoadingTooLong = now - engine.startedAtMs > spec.startupTimeoutS * 1000;
    if (engine.state === 'starting' && isLoadingTooLong && engine.inFlight === 0) {
      stop(engine, `not healthy within startupTimeout ${spec.startupTimeoutS} s`);
    }
  }
  if (!spec) return actions;
  const live = fleet.engines.filter((e) => e.version === spec.version && !stopping.has(e));
  const idleMs = spec.scaledownWindowS * 1000;
  const idle = live
    .filter((e) => e.state === 'ready' && e.inFlight === 0 && now - e.lastActiveAtMs >= idleMs)
    .sort((a, b) => a.lastActiveAtMs - b.lastActiveAtMs)[0];
  if (idle && live.length > spec.minContainers) {
    stop(idle, `scaled down after ${spec.scaledownWindowS} s idle`);
    return actions;
  }
  if (fleet.crash?.version === spec.version) {
    // The container stays down (the router answers 502) until its back-off has passed.
    if (now >= fleet.crash.replaceAtMs) actions.push({ kind: 'start', reason: 'replacement after crash' });
    return actions;
  }
  const running = live.length + fleet.pendingStarts.filter((p) => p.version === spec.version).length;
  if (fleet.unplacedRequests > 0 && running < spec.maxContainers) actions.push({ kind: 'start', reason: 'cold start' });
  else if (running < spec.minContainers) actions.push({ kind: 'start', reason: 'min containers' });
  else if (running < Math.min(spec.rolloutContainers ?? 0, spec.maxContainers)) {
    actions.push({ kind: 'start', reason: 'new version' });
  }
  return actions;
}
