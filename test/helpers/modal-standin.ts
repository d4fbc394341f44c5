import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { REPO_ROOT } from './repo-files';

/** The project's pinned client and its Python (the real `modal` CLI and SDK that the adapter runs). */
export const MODAL_BIN = path.join(REPO_ROOT, '.venv', 'bin', 'modal');
export const PYTHON_BIN = path.join(REPO_ROOT, '.venv', 'bin', 'python');
export const DEPLOY_PY = path.join(REPO_ROOT, 'modal', 'deploy.py');

/** One call the stand-in's control plane saw (GET /calls). */
export interface StandinCall {
  id: string;
  function: string;
  app: string;
  appId: string;
  kwargs: Record<string, unknown>;
  invocation: 'spawn' | 'remote';
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
}

/** What a planned function call does: how long it runs, what it returns or raises, what it writes to volumes. */
export interface CallPlan {
  durationMs?: number;
  result?: unknown;
  error?: { type: string; message: string };
  writes?: Array<{
    volume: string;
    path: string;
    text?: string;
    json?: unknown;
    contentBase64?: string;
    delete?: boolean;
  }>;
  app?: string;
}

/** A running stand-in of Modal's control plane and a client of its control API. */
export interface ModalStandin {
  /** Environment for the real client: server URL, test token, an empty profile file. */
  env: NodeJS.ProcessEnv;
  tokenId: string;
  tokenSecret: string;
  controlUrl: string;
  /** Calls the control API; throws on a non-2xx answer with its body. */
  control<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  /** Every function call so far. */
  calls(): Promise<StandinCall[]>;
  /** Queues a plan for the next call of `fn` (the last one stays for later calls). */
  plan(fn: string, plan: CallPlan): Promise<void>;
  /** Replaces every plan of `fn` with this one. */
  setPlan(fn: string, plan: CallPlan): Promise<void>;
  createSecret(name: string, keys: Record<string, string>): Promise<void>;
  createVolume(name: string): Promise<void>;
  putFile(volume: string, remotePath: string, content: string | Buffer): Promise<void>;
  /** The stand-in's stderr so far (every RPC it served), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts modal/tests/modal_standin/server.py on free ports (a child process) and returns the environment that points
 * the real `modal` client at it. Nothing here talks to Modal's servers.
 */
export async function startModalStandin(): Promise<ModalStandin> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-standin-'));
  const profile = path.join(dir, 'modal.toml');
  fs.writeFileSync(profile, '');
  const errFile = path.join(dir, 'standin.log');
  const errFd = fs.openSync(errFile, 'a');
  const child: ChildProcess = spawn(
    PYTHON_BIN,
    [path.join(REPO_ROOT, 'modal', 'tests', 'modal_standin', 'server.py'), '--port', '0'],
    {
      stdio: ['ignore', 'pipe', errFd],
    },
  );
  fs.closeSync(errFd);
  const log = (): string => (fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8') : '');
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`the Modal stand-in did not start in time:\n${log()}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Modal stand-in exited with ${code}:\n${log()}`));
    });
  });
  const info = JSON.parse(first) as { serverUrl: string; controlUrl: string; tokenId: string; tokenSecret: string };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MODAL_SERVER_URL: info.serverUrl,
    MODAL_TOKEN_ID: info.tokenId,
    MODAL_TOKEN_SECRET: info.tokenSecret,
    MODAL_CONFIG_PATH: profile,
    HOME: dir,
  };
  delete env.MODAL_ENVIRONMENT;
  delete env.MODAL_PROFILE;
  // Plain node:http without keep-alive, so no socket outlives the test file.
  const control = <T>(method: string, route: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const payload =
        body === undefined
          ? undefined
          : Buffer.isBuffer(body) || typeof body === 'string'
            ? body
            : JSON.stringify(body);
      const request = http.request(`${info.controlUrl}${route}`, { method, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((response.statusCode ?? 500) >= 300) {
            reject(new Error(`stand-in ${method} ${route}: HTTP ${response.statusCode}: ${text}`));
            return;
          }
          resolve((text ? JSON.parse(text) : undefined) as T);
        });
      });
      request.on('error', reject);
      request.end(payload);
    });
  return {
    env,
    tokenId: info.tokenId,
    tokenSecret: info.tokenSecret,
    controlUrl: info.controlUrl,
    control,
    calls: () => control<StandinCall[]>('GET', '/calls'),
    plan: async (fn, plan) => void (await control('POST', `/functions/${fn}/plan`, plan)),
    setPlan: async (fn, plan) => void (await control('PUT', `/functions/${fn}/plan`, plan)),
    createSecret: async (name, keys) => void (await control('POST', '/secrets', { name, keys })),
    createVolume: async (name) => void (await control('POST', '/volumes', { name })),
    putFile: async (volume, remotePath, content) =>
      void (await control('PUT', `/volumes/${volume}/files?path=${encodeURIComponent(remotePath)}`, content)),
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
