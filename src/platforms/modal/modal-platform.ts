import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stateDir } from '../../config/paths';
import { ErrorType } from '../../shared/errors';
import { DEEPGEMM_CACHE_MOUNT, defaultModelPath, MODEL_CACHE_MOUNT } from '../../spec/argv-builder';
import { renderDeployConfig } from '../../spec/deploy-config';
import type { Spec } from '../../spec/schema';
import { SENTINEL_FILE } from '../../storage/download-sentinel';
import { kernelMarkerName } from '../../storage/storage-layout';
import type {
  Deployment,
  Endpoint,
  KernelCacheStatus,
  KernelCompileResult,
  LogLine,
  Platform,
  ProgressCallback,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from '../platform';
import * as commands from './modal-commands';
import type { DeployPyFunction, ModalScope } from './modal-commands';
import { DeploymentRecordStore } from './modal-deployment-records';
import { type HistoryEntry, parseAppHistory, parseAppList, parseAppLogs, parseVolumeListing } from './modal-output';
import { ModalCommandError, ModalNotFoundError, ModalOutputError } from './modal-platform-errors';
import { modalCliPath, modalPythonPath } from './modal-preflight';
import { judgeRemoteMarker, judgeRemoteWeights, parseRemoteSentinel } from './modal-remote-storage';
import { type CommandOutput, type CommandRunner, execaRunner } from './modal-runner';

/** Time limits per kind of call; a 700 GB download and a first compile take hours, listings take seconds. */
export interface ModalTimeouts {
  quickMs: number;
  deployMs: number;
  downloadMs: number;
  compileMs: number;
  functionMs: number;
}

/** Defaults for {@link ModalTimeouts}. */
export const DEFAULT_MODAL_TIMEOUTS: ModalTimeouts = {
  quickMs: 120_000,
  deployMs: 30 * 60_000,
  downloadMs: 24 * 60 * 60_000,
  compileMs: 2 * 60 * 60_000,
  functionMs: 20 * 60_000,
};

/** What ModalPlatform needs; credentials stay in `env`, which never reaches a result, a log line or an error. */
export interface ModalPlatformDeps {
  /** The `modal` client; default GLM_OPS_MODAL_CLI, else `.venv/bin/modal`. */
  modalBin?: string;
  /** Python with the `modal` package for modal/control.py; default GLM_OPS_MODAL_PYTHON, else `.venv/bin/python`. */
  pythonBin?: string;
  deployPy: string;
  /** Default: control.py beside deployPy. */
  controlPy?: string;
  env: NodeJS.ProcessEnv;
  runner?: CommandRunner;
  /** Where the spec of each deployed version is remembered; default `<state dir>/modal/deployments`. */
  recordsDir?: string;
  /** Modal environment for calls that name only an app; default MODAL_ENVIRONMENT, else the profile's. */
  environment?: string;
  timeouts?: Partial<ModalTimeouts>;
}

interface FunctionResult {
  skipped?: boolean;
  durationMs?: number;
  status?: { state: WeightsStatus['state']; problems: string[]; commit?: string | null; fileCount: number; bytes: number };
}

/** The Modal platform: every port method through the real `modal` CLI (and a small Python helper) driving modal/deploy.py. */
export class ModalPlatform implements Platform {
  readonly name = 'modal' as const;
  private readonly modalBin: string;
  private readonly pythonBin: string;
  private readonly controlPy: string;
  private readonly runner: CommandRunner;
  private readonly records: DeploymentRecordStore;
  private readonly timeouts: ModalTimeouts;
  /** The environment each app was last deployed to by this adapter, for calls that name only the app. */
  private readonly appEnvironments = new Map<string, string>();

  constructor(private readonly deps: ModalPlatformDeps) {
    this.modalBin = deps.modalBin ?? modalCliPath(deps.env);
    this.pythonBin = deps.pythonBin ?? modalPythonPath(deps.env);
    this.controlPy = deps.controlPy ?? path.join(path.dirname(deps.deployPy), 'control.py');
    this.runner = deps.runner ?? execaRunner;
    this.records = new DeploymentRecordStore(deps.recordsDir ?? path.join(stateDir(deps.env), 'modal', 'deployments'));
    this.timeouts = { ...DEFAULT_MODAL_TIMEOUTS, ...deps.timeouts };
  }

  // ---- storage -------------------------------------------------------------------------------------------------

  async weightsStatus(spec: Spec, options?: { full?: boolean }): Promise<WeightsStatus> {
    if (options?.full) {
      const report = await this.runFunction<{ weights: NonNullable<FunctionResult['status']> }>(spec, 'verify_setup', ['--full'], {
        timeoutMs: this.timeouts.functionMs,
        failureType: ErrorType.TransportError,
      });
      return this.toWeightsStatus(spec, report.weights);
    }
    const scope = { environment: spec.environment };
    const folder = weightsFolder(spec);
    const sentinelText = await this.readVolumeFile(spec.volumes.weights, `${folder}/${SENTINEL_FILE}`, scope);
    const sentinel = parseRemoteSentinel(sentinelText, SENTINEL_FILE);
    const base = { repo: spec.model.repo, path: defaultModelPath(spec), sentinelPath: `${defaultModelPath(spec)}/${SENTINEL_FILE}` };
    if (sentinel.kind === 'absent') {
      const listing = await this.listVolume(spec.volumes.weights, folder, scope);
      return listing.size === 0
        ? { ...base, state: 'missing', fileCount: 0, bytes: 0, problems: [] }
        : { ...base, state: 'partial', fileCount: listing.size, bytes: sum(listing.values()), problems: [`no sentinel ${SENTINEL_FILE}: the download did not finish`] };
    }
    if (sentinel.kind === 'invalid') return { ...base, state: 'corrupt', fileCount: 0, bytes: 0, problems: [sentinel.problem] };
    const sizes = new Map<string, number>();
    const folders = new Set(sentinel.sentinel.files.map((file) => path.posix.dirname(file.path)));
    for (const sub of folders) {
      const remote = sub === '.' ? folder : `${folder}/${sub}`;
      for (const [name, size] of await this.listVolume(spec.volumes.weights, remote, scope)) {
        sizes.set(sub === '.' ? name : `${sub}/${name}`, size);
      }
    }
    const pinned = /^[0-9a-f]{40}$/.test(spec.model.revision) ? spec.model.revision : undefined;
    const problems = judgeRemoteWeights(sentinel.sentinel, sizes, { repo: spec.model.repo, ...(pinned ? { commit: pinned } : {}) });
    return {
      ...base,
      state: problems.length === 0 ? 'valid' : 'corrupt',
      commit: sentinel.sentinel.commit,
      fileCount: sentinel.sentinel.files.length,
      bytes: sentinel.sentinel.totalBytes,
      problems,
    };
  }

  async ensureWeights(spec: Spec, options?: { onProgress?: ProgressCallback; signal?: AbortSignal }): Promise<WeightsResult> {
    options?.onProgress?.({ stage: 'download', bytesDone: 0, bytesTotal: spec.model.weightsGB * 1e9, filesDone: 0, filesTotal: 0, rateBytesPerSec: 0 });
    const result = await this.runFunction<FunctionResult>(spec, 'download_model', [], {
      timeoutMs: this.timeouts.downloadMs,
      failureType: ErrorType.TransportError,
      ...(options?.signal ? { signal: options.signal } : {}),
    });
    if (!result.status) throw new ModalOutputError('download_model returned no status');
    const status = this.toWeightsStatus(spec, result.status);
    return {
      status,
      skipped: Boolean(result.skipped),
      bytesDownloaded: result.skipped ? 0 : status.bytes,
      filesDownloaded: result.skipped ? 0 : status.fileCount,
      durationMs: result.durationMs ?? 0,
    };
  }

  async commitVolume(spec: Spec, volume: VolumeKind): Promise<void> {
    await this.runFunction(spec, 'commit_volume', ['--kind', volume], {
      timeoutMs: this.timeouts.functionMs,
      failureType: volume === 'weights' ? ErrorType.WeightsCorrupt : ErrorType.CompileFailed,
    });
  }

  async kernelCacheStatus(spec: Spec): Promise<KernelCacheStatus> {
    const scope = { environment: spec.environment };
    const marker = kernelMarkerName(spec.model.repo);
    const [markerText, sentinelText] = await Promise.all([
      this.readVolumeFile(spec.volumes.kernels, marker, scope),
      this.readVolumeFile(spec.volumes.weights, `${weightsFolder(spec)}/${SENTINEL_FILE}`, scope),
    ]);
    const sentinel = parseRemoteSentinel(sentinelText, SENTINEL_FILE);
    return judgeRemoteMarker(
      markerText,
      {
        repo: spec.model.repo,
        gpuType: spec.gpu.type,
        sglangImage: spec.sglang.image,
        ...(sentinel.kind === 'ok' ? { modelRevision: sentinel.sentinel.commit } : {}),
      },
      { path: `${DEEPGEMM_CACHE_MOUNT}/deepgemm/${spec.gpu.type.toUpperCase()}`, markerPath: `${DEEPGEMM_CACHE_MOUNT}/${marker}` },
    );
  }

  async compileKernels(
    spec: Spec,
    options: { rolloutId: string; onProgress?: ProgressCallback; signal?: AbortSignal },
  ): Promise<KernelCompileResult> {
    const before = await this.kernelCacheStatus(spec);
    if (before.state === 'valid') return { status: before, skipped: true, durationMs: 0 };
    options.onProgress?.({ stage: 'compile', bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0, rateBytesPerSec: 0 });
    const result = await this.runFunction<FunctionResult>(spec, 'compile_deepgemm', ['--rollout-id', options.rolloutId], {
      timeoutMs: this.timeouts.compileMs,
      failureType: ErrorType.CompileFailed,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { status: await this.kernelCacheStatus(spec), skipped: Boolean(result.skipped), durationMs: result.durationMs ?? 0 };
  }

  async invalidateKernels(spec: Spec, options?: { gpuType?: string; onlyIfRolloutId?: string }): Promise<{ removed: boolean }> {
    const scope = { environment: spec.environment };
    const gpuType = (options?.gpuType ?? spec.gpu.type).toUpperCase();
    const marker = kernelMarkerName(spec.model.repo);
    const text = await this.readVolumeFile(spec.volumes.kernels, marker, scope);
    if (text === null) return { removed: false };
    let owner: { gpuType?: string; rolloutId?: string } = {};
    try {
      owner = JSON.parse(text) as typeof owner;
    } catch {
      // A malformed marker is removed like a stale one.
    }
    if (owner.gpuType && owner.gpuType.toUpperCase() !== gpuType) return { removed: false };
    if (options?.onlyIfRolloutId && owner.rolloutId !== options.onlyIfRolloutId) return { removed: false };
    // The marker goes first: a cache without a marker is recompiled, a marker without its cache would lie.
    await this.modal(commands.volumeRmArgv(spec.volumes.kernels, marker, false, scope), ErrorType.TransportError);
    await this.ignoreNotFound(() => this.modal(commands.volumeRmArgv(spec.volumes.kernels, `deepgemm/${gpuType}`, true, scope), ErrorType.TransportError));
    return { removed: true };
  }

  // ---- serving -------------------------------------------------------------------------------------------------

  async currentDeployment(app: string): Promise<Deployment | null> {
    const scope = this.scopeFor(app);
    const apps = parseAppList((await this.modal(commands.appListArgv(scope), ErrorType.TransportError)).stdout);
    if (!apps.some((row) => row.description === app && row.state === 'deployed')) return null;
    const entries = await this.historyEntries(app, scope);
    const newest = entries[0];
    return newest ? this.toDeployment(app, newest, entries, true) : null;
  }

  async deploy(spec: Spec, options: { rolloutId: string }): Promise<Deployment> {
    const scope = { environment: spec.environment };
    this.appEnvironments.set(spec.app, spec.environment);
    const existing = (await this.historyEntries(spec.app, scope)).find((entry) => entry.tag === options.rolloutId);
    if (existing) return this.recordDeployment(spec, existing, options.rolloutId);
    await this.withConfig(spec, (env) =>
      this.run(this.modalBin, commands.deployArgv(this.deps.deployPy, spec.app, options.rolloutId, scope), {
        env,
        timeoutMs: this.timeouts.deployMs,
        failureType: ErrorType.DeployFailed,
      }),
    );
    const deployed = (await this.historyEntries(spec.app, scope)).find((entry) => entry.tag === options.rolloutId);
    if (!deployed) {
      throw new ModalCommandError(`modal deploy ${spec.app} returned but no version in its history has tag ${options.rolloutId}`, ErrorType.DeployFailed);
    }
    return this.recordDeployment(spec, deployed, options.rolloutId);
  }

  async history(app: string): Promise<Deployment[]> {
    const entries = await this.historyEntries(app, this.scopeFor(app));
    return entries.flatMap((entry, index) => {
      const deployment = this.tryDeployment(app, entry, entries, index === 0);
      return deployment ? [deployment] : [];
    });
  }

  async rollback(app: string, version: number): Promise<Deployment> {
    const scope = this.scopeFor(app);
    const before = await this.historyEntries(app, scope);
    if (!before.some((entry) => entry.version === version)) {
      throw new ModalNotFoundError(`app ${app} has no version v${version} (versions: ${before.map((e) => `v${e.version}`).join(', ') || 'none'})`);
    }
    await this.modal(commands.appRollbackArgv(app, version, scope), ErrorType.DeployFailed);
    const after = await this.historyEntries(app, scope);
    const newest = after[0];
    if (!newest) throw new ModalOutputError(`modal app history ${app} is empty after a rollback`);
    const source = this.records.read(app, version);
    if (source && newest.version !== version) {
      this.records.write({ ...source, version: newest.version, rolledBackFrom: version });
    }
    return this.toDeployment(app, newest, after, true);
  }

  async stop(app: string): Promise<void> {
    await this.ignoreNotFound(() => this.modal(commands.appStopArgv(app, this.scopeFor(app)), ErrorType.TransportError));
  }

  async endpoint(app: string): Promise<Endpoint> {
    const output = await this.control(['endpoint', '--app', app, ...this.envArgs(app)]);
    const url = (JSON.parse(output.stdout) as { url?: unknown }).url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new ModalOutputError(`control.py endpoint printed no URL for ${app}`);
    return { url };
  }

  async logs(app: string, options: { since?: string; limit?: number } = {}): Promise<LogLine[]> {
    const output = await this.modal(commands.appLogsArgv(app, options, this.scopeFor(app)), ErrorType.TransportError);
    const lines = parseAppLogs(output.stdout);
    return options.limit !== undefined ? lines.slice(-options.limit) : lines;
  }

  async setMinContainers(app: string, minContainers: number): Promise<void> {
    if (!Number.isInteger(minContainers) || minContainers < 0) {
      throw new RangeError(`minContainers ${minContainers} must be an integer of 0 or more`);
    }
    await this.control(['set-min-containers', '--app', app, ...this.envArgs(app), '--min', String(minContainers)]);
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  private scopeFor(app: string): ModalScope {
    const environment = this.appEnvironments.get(app) ?? this.deps.environment ?? this.deps.env.MODAL_ENVIRONMENT?.trim();
    return environment ? { environment } : {};
  }

  private envArgs(app: string): string[] {
    const { environment } = this.scopeFor(app);
    return environment ? ['--env', environment] : [];
  }

  private run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; failureType: ErrorType; signal?: AbortSignal }): Promise<CommandOutput> {
    return this.runner({
      file,
      args,
      env: options.env ?? this.deps.env,
      timeoutMs: options.timeoutMs,
      failureType: options.failureType,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  private modal(args: string[], failureType: ErrorType): Promise<CommandOutput> {
    return this.run(this.modalBin, args, { timeoutMs: this.timeouts.quickMs, failureType });
  }

  private control(args: string[]): Promise<CommandOutput> {
    return this.run(this.pythonBin, [this.controlPy, ...args], { timeoutMs: this.timeouts.quickMs, failureType: ErrorType.TransportError });
  }

  private async ignoreNotFound(body: () => Promise<unknown>): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (!(err instanceof ModalNotFoundError)) throw err;
    }
  }

  private async historyEntries(app: string, scope: ModalScope): Promise<HistoryEntry[]> {
    try {
      return parseAppHistory((await this.modal(commands.appHistoryArgv(app, scope), ErrorType.TransportError)).stdout);
    } catch (err) {
      if (err instanceof ModalNotFoundError) return [];
      throw err;
    }
  }

  private async readVolumeFile(volume: string, remotePath: string, scope: ModalScope): Promise<string | null> {
    try {
      return (await this.modal(commands.volumeGetArgv(volume, remotePath, scope), ErrorType.TransportError)).stdout;
    } catch (err) {
      if (err instanceof ModalNotFoundError) return null;
      throw err;
    }
  }

  private async listVolume(volume: string, remotePath: string, scope: ModalScope): Promise<Map<string, number>> {
    let stdout: string;
    try {
      stdout = (await this.modal(commands.volumeLsArgv(volume, remotePath, scope), ErrorType.TransportError)).stdout;
    } catch (err) {
      if (err instanceof ModalNotFoundError) return new Map();
      throw err;
    }
    const prefix = `${remotePath.replace(/\/+$/, '')}/`;
    return new Map(
      parseVolumeListing(stdout)
        .filter((entry) => entry.type === 'file')
        .map((entry) => [entry.filename.startsWith(prefix) ? entry.filename.slice(prefix.length) : path.posix.basename(entry.filename), Number(entry.size)]),
    );
  }

  /** Renders the spec to a temp deploy-config.json for deploy.py and removes it afterwards. */
  private async withConfig<T>(spec: Spec, body: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-'));
    try {
      const file = path.join(dir, 'deploy-config.json');
      fs.writeFileSync(file, `${JSON.stringify(renderDeployConfig(spec), null, 2)}\n`);
      return await body({ ...this.deps.env, GLM_OPS_DEPLOY_CONFIG: file });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async runFunction<T>(
    spec: Spec,
    fn: DeployPyFunction,
    args: string[],
    options: { timeoutMs: number; failureType: ErrorType; signal?: AbortSignal },
  ): Promise<T> {
    return this.withConfig(spec, async (env) => {
      const resultPath = path.join(path.dirname(env.GLM_OPS_DEPLOY_CONFIG as string), 'result.json');
      const argv = commands.runFunctionArgv(this.deps.deployPy, fn, resultPath, args, { environment: spec.environment });
      await this.run(this.modalBin, argv, { env, ...options });
      try {
        return JSON.parse(fs.readFileSync(resultPath, 'utf8')) as T;
      } catch {
        throw new ModalOutputError(`modal run ${fn} wrote no JSON result to ${resultPath}`);
      }
    });
  }

  private toWeightsStatus(spec: Spec, status: NonNullable<FunctionResult['status']>): WeightsStatus {
    return {
      state: status.state,
      repo: spec.model.repo,
      ...(status.commit ? { commit: status.commit } : {}),
      path: defaultModelPath(spec),
      sentinelPath: `${defaultModelPath(spec)}/${SENTINEL_FILE}`,
      fileCount: status.fileCount,
      bytes: status.bytes,
      problems: status.problems,
    };
  }

  private recordDeployment(spec: Spec, entry: HistoryEntry, rolloutId: string): Deployment {
    if (!this.records.read(spec.app, entry.version)) this.records.write({ app: spec.app, version: entry.version, rolloutId, spec });
    return { app: spec.app, version: entry.version, rolloutId, spec, deployedAt: entry.deployedAt, isCurrent: true };
  }

  private tryDeployment(app: string, entry: HistoryEntry, entries: HistoryEntry[], isCurrent: boolean): Deployment | undefined {
    const own = this.records.read(app, entry.version);
    // Versions deployed outside glm-ops have no record: they run the code of the nearest older recorded version at best.
    const record = own ?? entries.filter((e) => e.version < entry.version).map((e) => this.records.read(app, e.version)).find(Boolean);
    if (!record) return undefined;
    return {
      app,
      version: entry.version,
      rolloutId: own?.rolloutId ?? entry.tag ?? `modal-v${entry.version}`,
      spec: record.spec,
      deployedAt: entry.deployedAt,
      isCurrent,
    };
  }

  private toDeployment(app: string, entry: HistoryEntry, entries: HistoryEntry[], isCurrent: boolean): Deployment {
    const deployment = this.tryDeployment(app, entry, entries, isCurrent);
    if (!deployment) {
      throw new ModalNotFoundError(
        `app ${app} v${entry.version} has no glm-ops record (it was not deployed by glm-ops from this worker's state dir): ` +
          `redeploy it with \`glm-ops rollout\``,
      );
    }
    return deployment;
  }
}

function weightsFolder(spec: Spec): string {
  return path.posix.relative(MODEL_CACHE_MOUNT, defaultModelPath(spec));
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
