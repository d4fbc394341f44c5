import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorType } from '../../shared/errors';
import { renderDeployConfig } from './deploy-config';
import type { Spec } from '../../spec/schema';
import * as commands from './modal-commands';
import type { ModalScope } from './modal-commands';
import { type AppListRow, type HistoryEntry, parseAppHistory, parseAppList, parseVolumeListing } from './modal-output';
import { ModalNotFoundError, ModalOutputError } from './modal-platform-errors';
import type { CommandOutput, CommandRunner } from './modal-runner';
import type { ModalTimeouts } from './modal-timeouts';

/** Where an app stands on Modal: its current (or last stopped) app id. */
export interface ResolvedApp {
  appId: string;
  isDeployed: boolean;
}

/** One invocation's settings beyond the argv; `env` defaults to the adapter's environment. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  failureType: ErrorType;
  step: string;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

/**
 * The Modal client as the adapter drives it: the `modal` CLI and modal/control.py (the SDK) run through one
 * {@link CommandRunner} with the worker's credentials, and the queries both sides of the adapter share (an app's
 * id, its version history, a volume's files) parsed into types. A command the client answers with "not found" is a
 * ModalNotFoundError; the queries turn it into an empty answer where "nothing there" is the truth.
 */
export class ModalCli {
  constructor(
    private readonly options: {
      modalBin: string;
      pythonBin: string;
      controlPy: string;
      env: NodeJS.ProcessEnv;
      runner: CommandRunner;
      timeouts: ModalTimeouts;
    },
  ) {}

  /** The worker's environment (credentials included): never returned, logged or put into an error. */
  get env(): NodeJS.ProcessEnv {
    return this.options.env;
  }

  /** `modal <args>` with the quick timeout. */
  modal(args: string[], failureType: ErrorType, step: string): Promise<CommandOutput> {
    return this.run(this.options.modalBin, args, { timeoutMs: this.options.timeouts.quickMs, failureType, step });
  }

  /** `modal <args>` with the given settings (a deploy: its own timeout, environment and lock lease). */
  modalWith(args: string[], options: RunOptions): Promise<CommandOutput> {
    return this.run(this.options.modalBin, args, options);
  }

  /** `python control.py <args>` with the quick timeout; a failure is a transport error. */
  control(args: string[], step: string): Promise<CommandOutput> {
    return this.python([this.options.controlPy, ...args], {
      timeoutMs: this.options.timeouts.quickMs,
      failureType: ErrorType.TransportError,
      step,
    });
  }

  /** The SDK's Python with an argv that names its script (modal-commands builds control.py's), and given settings. */
  python(argv: string[], options: RunOptions): Promise<CommandOutput> {
    return this.run(this.options.pythonBin, argv, options);
  }

  /** The app id behind a name: the deployed app, else the most recently stopped one (history names it too). */
  async resolveApp(app: string, scope: ModalScope, step: string): Promise<ResolvedApp | undefined> {
    const rows = parseAppList(
      (await this.modal(commands.appListArgv(scope), ErrorType.TransportError, step)).stdout,
    ).filter((row) => row.description === app);
    const deployed = rows.find((row) => row.state === 'deployed');
    if (deployed) return { appId: deployed.app_id, isDeployed: true };
    const stopped = rows
      .filter((row) => row.state.startsWith('stopp'))
      .sort(byStoppedAt)
      .at(-1);
    return stopped ? { appId: stopped.app_id, isDeployed: false } : undefined;
  }

  /** An app's versions, newest first; none for an app Modal does not know. */
  async historyEntries(app: string, scope: ModalScope, step: string): Promise<HistoryEntry[]> {
    try {
      return parseAppHistory(
        (await this.modal(commands.appHistoryArgv(app, scope), ErrorType.TransportError, step)).stdout,
      );
    } catch (err) {
      if (err instanceof ModalNotFoundError) return [];
      throw err;
    }
  }

  /** A volume file's text through `modal volume get` into a temp file; null only on the client's not-found error. */
  async readVolumeFile(volume: string, remotePath: string, scope: ModalScope, step: string): Promise<string | null> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-volume-get-'));
    try {
      const local = path.join(dir, path.posix.basename(remotePath) || 'file');
      try {
        await this.modal(commands.volumeGetArgv(volume, remotePath, local, scope), ErrorType.TransportError, step);
      } catch (err) {
        if (err instanceof ModalNotFoundError) return null;
        throw err;
      }
      if (!fs.existsSync(local) || !fs.statSync(local).isFile()) {
        throw new ModalOutputError(
          `${step}: modal volume get ${volume} ${remotePath} succeeded but wrote no file (is it a folder?)`,
        );
      }
      return fs.readFileSync(local, 'utf8');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The files directly under a volume folder, by name relative to it, with their sizes; empty when it is absent. */
  async listVolume(volume: string, remotePath: string, scope: ModalScope, step: string): Promise<Map<string, number>> {
    let stdout: string;
    try {
      stdout = (await this.modal(commands.volumeLsArgv(volume, remotePath, scope), ErrorType.TransportError, step))
        .stdout;
    } catch (err) {
      if (err instanceof ModalNotFoundError) return new Map();
      throw err;
    }
    const prefix = `${remotePath.replace(/\/+$/, '')}/`;
    return new Map(
      parseVolumeListing(stdout)
        .filter((entry) => entry.type === 'file')
        .map((entry) => [
          entry.filename.startsWith(prefix) ? entry.filename.slice(prefix.length) : path.posix.basename(entry.filename),
          Number(entry.size),
        ]),
    );
  }

  /** Renders the spec to a temp deploy-config.json for deploy.py and removes it afterwards. */
  async withConfig<T>(spec: Spec, body: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-'));
    try {
      const file = path.join(dir, 'deploy-config.json');
      fs.writeFileSync(file, `${JSON.stringify(renderDeployConfig(spec), null, 2)}\n`);
      return await body({ ...this.options.env, GLM_OPS_DEPLOY_CONFIG: file });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Runs `body`; a ModalNotFoundError (what is to be removed is gone already) counts as done. */
  async ignoreNotFound(body: () => Promise<unknown>): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (!(err instanceof ModalNotFoundError)) throw err;
    }
  }

  private run(file: string, args: string[], options: RunOptions): Promise<CommandOutput> {
    return this.options.runner({
      file,
      args,
      env: options.env ?? this.options.env,
      timeoutMs: options.timeoutMs,
      failureType: options.failureType,
      step: options.step,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    });
  }
}

/** The JSON object a helper printed as its last stdout line. */
export function parseJsonLine(stdout: string, what: string): Record<string, unknown> {
  const line = stdout.trim().split(/\r?\n/).at(-1) ?? '';
  try {
    const value = JSON.parse(line) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below with the bytes that came instead.
  }
  throw new ModalOutputError(`${what} printed no JSON object (got: ${line.slice(0, 80)})`);
}

function byStoppedAt(a: AppListRow, b: AppListRow): number {
  return String(a.stopped_at ?? a.created_at ?? '').localeCompare(String(b.stopped_at ?? b.created_at ?? ''));
}
