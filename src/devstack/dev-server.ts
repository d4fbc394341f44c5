import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { CLI_SEARCH_ATTRIBUTE_TYPES } from '../config/temporal-namespace-check';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { temporalCliPath } from './temporal-cli';
import { freePort, preferredOrFreePort } from '../net/free-port';
import { isProcessAlive } from '../process/process-identity';

/** How to start a dev server. */
export interface DevServerOptions {
  /** SQLite file for on-disk state; omitted = in memory (tests). */
  dbFile?: string;
  /** Preferred frontend port; a free one is chosen when it is taken (unless `onPortTaken` refuses). */
  preferredPort?: number;
  /** Called instead of choosing another frontend port when the preferred one is taken; throws to refuse. */
  onPortTaken?: (port: number) => never;
  /** Preferred UI port; ignored when headless. */
  preferredUiPort?: number;
  headless?: boolean;
  /** Where the server's stdout/stderr go. */
  logFile: string;
  /** Detach into its own process group so it outlives the caller (dev up), or stay a child (tests). */
  detached: boolean;
  readyTimeoutMs?: number;
}

/** A started dev server. */
export interface DevServer {
  pid: number;
  address: string;
  port: number;
  uiPort?: number;
  uiUrl?: string;
  /** Ports we wanted but found taken, so the caller can say so. */
  portNotes: string[];
}

/** The argv for `temporal server start-dev` with the project's search attributes registered. */
export function devServerArgs(options: {
  port: number;
  uiPort?: number;
  dbFile?: string;
  headless: boolean;
}): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.headless) args.push('--headless');
  else if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const key of CUSTOM_SEARCH_ATTRIBUTES) {
    args.push('--search-attribute', `${key.name}=${CLI_SEARCH_ATTRIBUTE_TYPES[key.type]}`);
  }
  return args;
}

/** Starts `temporal server start-dev` and resolves once its frontend answers a gRPC call. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const portNotes: string[] = [];
  const frontend = await preferredOrFreePort(options.preferredPort ?? 7233);
  if (frontend.wasPreferredTaken && options.onPortTaken) options.onPortTaken(options.preferredPort ?? 7233);
  if (options.preferredPort !== undefined && frontend.wasPreferredTaken) {
    portNotes.push(`port ${options.preferredPort} is taken; the frontend uses ${frontend.port}`);
  }
  let uiPort: number | undefined;
  if (!options.headless) {
    const ui = await preferredOrFreePort(options.preferredUiPort ?? frontend.port + 1000);
    if (options.preferredUiPort !== undefined && ui.wasPreferredTaken) {
      portNotes.push(`port ${options.preferredUiPort} is taken; the Web UI uses ${ui.port}`);
    }
    uiPort = ui.port === frontend.port ? await freePort() : ui.port;
  }
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(
    temporalCliPath(),
    devServerArgs({ port: frontend.port, uiPort, dbFile: options.dbFile, headless: options.headless ?? false }),
    { detached: options.detached, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error('temporal server start-dev did not start');
  if (options.detached) child.unref();
  const address = `127.0.0.1:${frontend.port}`;
  try {
    await waitForFrontend(address, child.pid, options.readyTimeoutMs ?? 60_000, options.logFile);
  } catch (err) {
    if (isProcessAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
    throw err;
  }
  return {
    pid: child.pid,
    address,
    port: frontend.port,
    uiPort,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    portNotes,
  };
}

/** Polls the frontend with a real gRPC call (GetSystemInfo) until it answers or the process dies. */
export async function waitForFrontend(address: string, pid: number, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) {
      throw new Error(`temporal server exited during start-up; see ${logFile}: ${tail(logFile)}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`temporal server at ${address} did not answer within ${timeoutMs} ms (${lastError}); see ${logFile}`);
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}
