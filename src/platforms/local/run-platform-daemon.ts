import { ControlApi } from './control-api';
import { readDaemonInfo } from './control-client';
import { ensureToken, PlatformDaemon, type PlatformDaemonDeps, type DaemonInfo } from './platform-daemon';

/** A daemon serving its control API, and how to shut it down. */
export interface RunningPlatformDaemon {
  daemon: PlatformDaemon;
  info: DaemonInfo;
  /** Resolves once a shutdown (API call, SIGTERM or `shutdown()`) has finished. */
  closed: Promise<void>;
  /** Stops the control API and routers; `stopEngines: false` leaves engines running as a SIGKILL would. */
  shutdown(options?: { stopEngines: boolean }): Promise<void>;
}

/**
 * Starts the daemon and its control API (on the previous control port when free). Used in-process by tests and
 * by `glm-ops platform daemon`, the foreground process `platform up` detaches.
 */
export async function runPlatformDaemon(deps: PlatformDaemonDeps): Promise<RunningPlatformDaemon> {
  const previous = readDaemonInfo(deps.paths);
  const daemon = await PlatformDaemon.start(deps);
  const token = ensureToken(deps.paths);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (options = { stopEngines: true }): Promise<void> => {
    shutdownPromise ??= (async () => {
      deps.log?.(`shutting down (stopEngines=${options.stopEngines})`);
      await api.close();
      await daemon.close(options);
      resolveClosed();
    })();
    return shutdownPromise;
  };
  const api = new ControlApi(daemon, token, () => void shutdown());
  const previousPort = previous ? Number(new URL(previous.controlUrl).port) : 0;
  let info: DaemonInfo;
  try {
    info = await api.listen(previousPort);
  } catch (err) {
    await daemon.close({ stopEngines: false });
    throw err;
  }
  deps.log?.(`control API on ${info.controlUrl}; state in ${info.stateDir}`);
  return { daemon, info, closed, shutdown };
}
