import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import type { Config } from '../../config/config';
import { cliEntry } from '../../config/paths';
import { ControlClient, readDaemonInfo } from './control-client';
import { DaemonUnavailableError } from './local-platform-errors';
import type { PlatformStatus } from './platform-daemon';
import { platformPathsIn } from './platform-paths';
import {
  DAEMON_OWNER_ENV,
  hasEnvMarker,
  isProcessAlive,
  terminateProcessGroup,
  waitForExit,
} from '../../process/process-identity';

/**
 * What the daemon's life cycle needs of the settings: the state folder (the daemon's pid, address and token), and
 * the environment the detached daemon is started with (it reads its own Config from it).
 */
export type DaemonSettings = Pick<Config, 'env' | 'stateDir'>;

/** What `platform up` did. */
export interface PlatformUpResult {
  wasAlreadyRunning: boolean;
  status: PlatformStatus;
}

async function tryStatus(client: ControlClient): Promise<PlatformStatus | undefined> {
  try {
    return await client.request<PlatformStatus>('GET', '/v1/status');
  } catch {
    return undefined;
  }
}

function daemonPid(settings: Pick<Config, 'stateDir'>): number | undefined {
  const paths = platformPathsIn(settings.stateDir);
  try {
    const pid = Number(fs.readFileSync(paths.pidFile, 'utf8').trim());
    return pid > 0 && hasEnvMarker(pid, DAEMON_OWNER_ENV, paths.root) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the platform daemon detached (its output in `daemon.log`) unless one already answers; idempotent.
 * Resolves once the control API answers, with where its state lives.
 */
export async function startPlatform(
  settings: DaemonSettings,
  options: { timeoutMs?: number; entry?: string } = {},
): Promise<PlatformUpResult> {
  const paths = platformPathsIn(settings.stateDir);
  const client = new ControlClient(paths, 5_000);
  const running = await tryStatus(client);
  if (running) return { wasAlreadyRunning: true, status: running };
  fs.mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  const entry = options.entry ?? cliEntry();
  if (!fs.existsSync(entry)) {
    throw new DaemonUnavailableError(
      `cannot start the platform daemon: ${entry} is missing; build with \`npx tsc -p tsconfig.build.json\``,
    );
  }
  const logFd = fs.openSync(paths.daemonLog, 'a', 0o600);
  const child = spawn(process.execPath, [entry, 'platform', 'daemon'], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...settings.env, GLM_OPS_HOME: settings.stateDir, [DAEMON_OWNER_ENV]: paths.root },
  });
  fs.closeSync(logFd);
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    const info = readDaemonInfo(paths);
    if (info && info.pid === child.pid) {
      const status = await tryStatus(client);
      if (status) return { wasAlreadyRunning: false, status };
    }
    if (child.exitCode !== null || (child.pid && !isProcessAlive(child.pid))) {
      // Another `up` may have won the race for the lock; then its daemon is the answer.
      const status = await tryStatus(client);
      if (status) return { wasAlreadyRunning: true, status };
      throw new DaemonUnavailableError(`the platform daemon exited during start-up: see ${paths.daemonLog}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new DaemonUnavailableError(
    `the platform daemon did not answer within ${options.timeoutMs ?? 15_000} ms: see ${paths.daemonLog}`,
  );
}

/** Stops the daemon and its engines (through the control API, else SIGTERM); resolves whether one was running. */
export async function stopPlatform(
  settings: Pick<Config, 'stateDir'>,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  const pid = daemonPid(settings);
  const client = new ControlClient(platformPathsIn(settings.stateDir), 5_000);
  let isAsked = false;
  try {
    await client.request('POST', '/v1/shutdown');
    isAsked = true;
  } catch {
    // Not answering: fall back to a signal when the pid is ours.
  }
  if (pid === undefined) return isAsked;
  if (!isAsked) process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, options.timeoutMs ?? 30_000))) await terminateProcessGroup(pid, 1_000);
  return true;
}

/** The running daemon's status; throws DaemonUnavailableError when none answers. */
export async function platformStatus(settings: Pick<Config, 'stateDir'>): Promise<PlatformStatus> {
  return new ControlClient(platformPathsIn(settings.stateDir), 5_000).request<PlatformStatus>('GET', '/v1/status');
}

// For src/devstack/dev-stack.ts, which still holds only an environment here; remove once it passes its Config.
