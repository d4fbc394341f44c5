import * as path from 'node:path';

/** Where each of the platform daemon's files lives under `<stateDir>/platform/`. */
export interface PlatformPaths {
  root: string;
  /** Bearer token of the control API (mode 600). */
  token: string;
  /** Exclusive lock holding the daemon's pid; guarantees one daemon (and so one router per port). */
  pidFile: string;
  /** Address of the running daemon's control API, written once it listens. */
  daemonFile: string;
  /** The daemon's own log (stdout/stderr of the detached process). */
  daemonLog: string;
  appsDir: string;
}

/** Paths of the platform state folder inside a glm-ops state folder (Config.stateDir). */
export function platformPathsIn(glmOpsStateDir: string): PlatformPaths {
  const root = path.join(glmOpsStateDir, 'platform');
  return {
    root,
    token: path.join(root, 'token'),
    pidFile: path.join(root, 'daemon.pid'),
    daemonFile: path.join(root, 'daemon.json'),
    daemonLog: path.join(root, 'daemon.log'),
    appsDir: path.join(root, 'apps'),
  };
}

/** The folder of one app: its state file, its log, its engines' raw output. */
export function appDir(paths: PlatformPaths, app: string): string {
  return path.join(paths.appsDir, app);
}
