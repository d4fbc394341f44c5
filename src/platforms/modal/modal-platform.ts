import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { stateDir } from '../../config/paths';
import { ErrorType } from '../../shared/errors';
import { DEEPGEMM_CACHE_MOUNT, defaultModelPath, MODEL_CACHE_MOUNT } from '../../spec/argv-builder';
import { MODAL_FUNCTION_TIMEOUTS, opsAppName, renderDeployConfig } from './deploy-config';
import type { Spec } from '../../spec/schema';
import { SENTINEL_FILE } from '../../storage/download-sentinel';
import { kernelMarkerName } from '../../storage/storage-layout';
import type {
  Deployment,
  Endpoint,
  KernelCacheStatus,
  KernelCompileResult,
  LogLine,
  LongStepOptions,
  Platform,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from '../platform';
import * as commands from './modal-commands';
import type { ModalScope, OpsFunction } from './modal-commands';
import { DeployGuard } from './modal-deploy-guard';
import { DeploymentRecordStore, type DeploymentRecord } from './modal-deployment-records';
import {
  type AppListRow,
  type HistoryEntry,
  parseAppHistory,
  parseAppList,
  parseAppLogs,
  parseVolumeListing,
} from './modal-output';
import { ModalCommandError, ModalNotFoundError, ModalOutputError } from './modal-platform-errors';
import { modalCliPath, modalPythonPath } from './modal-preflight';
import { type CallControl, CallStatus, parseCallResult, runRemoteCall } from './modal-remote-call';
import { judgeRemoteMarker, judgeRemoteWeights, parseRemoteSentinel } from './modal-remote-storage';
import { type CommandOutput, type CommandRunner, execaRunner } from './modal-runner';

/** Time limits per kind of call; a 700 GB download and a first compile take hours, listings take seconds. */
export interface ModalTimeouts {
  /** One control-plane command (list, history, volume get, spawn, ...). */
  quickMs: number;
  /** One `modal deploy` (a first deploy builds images and creates functions and the secret's mount). */
  deployMs: number;
  /** Added to a function's Modal timeout for queueing and a cold start before the adapter gives up on the call. */
  callMarginMs: number;
  /** How long one status poll waits on Modal's side for the result. */
  pollWaitSec: number;
  /** Gap between progress reports (heartbeats) while a remote call runs. */
  progressEveryMs: number;
}

/** Defaults for {@link ModalTimeouts}. */
export const DEFAULT_MODAL_TIMEOUTS: ModalTimeouts = {
  quickMs: 90_000,
  deployMs: 40 * 60_000,
  callMarginMs: 30 * 60_000,
  pollWaitSec: 20,
  progressEveryMs: 5_000,
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
  /** Where in-flight deploys are recorded for other processes on this machine; default `<state dir>/modal/locks`. */
  locksDir?: string;
  /** Modal environment for calls that name only an app; default MODAL_ENVIRONMENT, else the profile's. */
  environment?: string;
  timeouts?: Partial<ModalTimeouts>;
  /** Where the adapter says what it does (spawned, re-attached); default silent. */
  log?: (message: string) => void;
}

const FunctionStatus = z.object({
  state: z.enum(['valid', 'missing', 'partial', 'corrupt']),
  problems: z.array(z.string()),
  commit: z.string().nullable().optional(),
  fileCount: z.number(),
  bytes: z.number(),
});
type FunctionStatus = z.infer<typeof FunctionStatus>;
const DownloadResult = z.object({ skipped: z.boolean(), status: FunctionStatus, durationMs: z.number().optional() });
const CompileResult = z.object({ skipped: z.boolean(), durationMs: z.number().optional() }).loose();
const VerifyResult = z.object({ weights: FunctionStatus }).loose();
const CommitResult = z.object({ committed: z.enum(['weights', 'kernels']) }).loose();
const Spawned = z.object({ callId: z.string().min(1) });

/** The line `modal deploy` prints when Modal found nothing to change (no new version, no tag recorded). */
const NOOP_DEPLOY_LINE = /^\W*Deployment skipped: no changes detected/m;
const ALREADY_STOPPED = /^App is already stopped/;
/** Modal's limit on object names (apps included). */
const MODAL_NAME_MAX = 63;

/** Where an app stands on Modal: its current (or last stopped) app id. */
interface ResolvedApp {
  appId: string;
  isDeployed: boolean;
}

/** The Modal platform: every port method through the real `modal` CLI and the SDK (modal/control.py) driving modal/deploy.py. */
export class ModalPlatform implements Platform {
  readonly name = 'modal' as const;
  private readonly modalBin: string;
  private readonly pythonBin: string;
  private readonly controlPy: string;
  private readonly runner: CommandRunner;
  private readonly records: DeploymentRecordStore;
  private readonly guard: DeployGuard;
  private readonly timeouts: ModalTimeouts;
  /** The environment each app was last deployed to by this adapter, for calls that name only the app. */
  private readonly appEnvironments = new Map<string, string>();
  /** Ops app → hash of the config this process last deployed it with: one `modal deploy` per config, not per call. */
  private readonly opsDeployed = new Map<string, string>();

  constructor(private readonly deps: ModalPlatformDeps) {
    this.modalBin = deps.modalBin ?? modalCliPath(deps.env);
    this.pythonBin = deps.pythonBin ?? modalPythonPath(deps.env);
    this.controlPy = deps.controlPy ?? path.join(path.dirname(deps.deployPy), 'control.py');
    this.runner = deps.runner ?? execaRunner;
    const modalState = path.join(stateDir(deps.env), 'modal');
    this.records = new DeploymentRecordStore(deps.recordsDir ?? path.join(modalState, 'deployments'));
    this.timeouts = { ...DEFAULT_MODAL_TIMEOUTS, ...deps.timeouts };
    this.guard = new DeployGuard(deps.locksDir ?? path.join(modalState, 'locks'), {
      staleAfterMs: this.timeouts.deployMs + 5 * 60_000,
    });
  }

  // ---- storage -------------------------------------------------------------------------------------------------

  async weightsStatus(spec: Spec, options: { full?: boolean } & LongStepOptions = {}): Promise<WeightsStatus> {
    if (options.full) {
      const result = await this.runOps(spec, 'verify_setup', { full: true }, options, {
        stage: 'verify',
        failureType: ErrorType.TransportError,
        limitSec: MODAL_FUNCTION_TIMEOUTS.verifySec,
      });
      return this.toWeightsStatus(spec, parseCallResult(result, VerifyResult, 'verify_setup').weights);
    }
    const scope = { environment: spec.environment };
    const folder = weightsFolder(spec);
    const step = 'weights status';
    const sentinelText = await this.readVolumeFile(spec.volumes.weights, `${folder}/${SENTINEL_FILE}`, scope, step);
    const sentinel = parseRemoteSentinel(sentinelText, SENTINEL_FILE);
    const base = {
      repo: spec.model.repo,
      path: defaultModelPath(spec),
      sentinelPath: `${defaultModelPath(spec)}/${SENTINEL_FILE}`,
    };
    if (sentinel.kind === 'absent') {
      const listing = await this.listVolume(spec.volumes.weights, folder, scope, step);
      return listing.size === 0
        ? { ...base, state: 'missing', fileCount: 0, bytes: 0, problems: [] }
        : {
            ...base,
            state: 'partial',
            fileCount: listing.size,
            bytes: sum(listing.values()),
            problems: [`no sentinel ${SENTINEL_FILE}: the download did not finish`],
          };
    }
    if (sentinel.kind === 'invalid')
      return { ...base, state: 'corrupt', fileCount: 0, bytes: 0, problems: [sentinel.problem] };
    const sizes = new Map<string, number>();
    const folders = new Set(sentinel.sentinel.files.map((file) => path.posix.dirname(file.path)));
    for (const sub of folders) {
      const remote = sub === '.' ? folder : `${folder}/${sub}`;
      for (const [name, size] of await this.listVolume(spec.volumes.weights, remote, scope, step)) {
        sizes.set(sub === '.' ? name : `${sub}/${name}`, size);
      }
    }
    const pinned = /^[0-9a-f]{40}$/.test(spec.model.revision) ? spec.model.revision : undefined;
    const problems = judgeRemoteWeights(sentinel.sentinel, sizes, {
      repo: spec.model.repo,
      ...(pinned ? { commit: pinned } : {}),
    });
    return {
      ...base,
      state: problems.length === 0 ? 'valid' : 'corrupt',
      commit: sentinel.sentinel.commit,
      fileCount: sentinel.sentinel.files.length,
      bytes: sentinel.sentinel.totalBytes,
      problems,
    };
  }

  async ensureWeights(spec: Spec, options: LongStepOptions = {}): Promise<WeightsResult> {
    const raw = await this.runOps(spec, 'download_model', {}, options, {
      stage: 'download',
      failureType: ErrorType.TransportError,
      limitSec: MODAL_FUNCTION_TIMEOUTS.downloadSec,
    });
    const result = parseCallResult(raw, DownloadResult, 'download_model');
    const status = this.toWeightsStatus(spec, result.status);
    return {
      status,
      skipped: result.skipped,
      bytesDownloaded: result.skipped ? 0 : status.bytes,
      filesDownloaded: result.skipped ? 0 : status.fileCount,
      durationMs: result.durationMs ?? 0,
    };
  }

  async commitVolume(spec: Spec, volume: VolumeKind, options: LongStepOptions = {}): Promise<void> {
    const raw = await this.runOps(spec, 'commit_volume', { kind: volume }, options, {
      stage: `commit ${volume}`,
      failureType: volume === 'weights' ? ErrorType.WeightsCorrupt : ErrorType.CompileFailed,
      limitSec: MODAL_FUNCTION_TIMEOUTS.commitSec,
    });
    parseCallResult(raw, CommitResult, 'commit_volume');
  }

  async kernelCacheStatus(spec: Spec): Promise<KernelCacheStatus> {
    const scope = { environment: spec.environment };
    const marker = kernelMarkerName(spec.model.repo);
    const step = 'kernel cache status';
    const [markerText, sentinelText] = await Promise.all([
      this.readVolumeFile(spec.volumes.kernels, marker, scope, step),
      this.readVolumeFile(spec.volumes.weights, `${weightsFolder(spec)}/${SENTINEL_FILE}`, scope, step),
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
      {
        path: `${DEEPGEMM_CACHE_MOUNT}/deepgemm/${spec.gpu.type.toUpperCase()}`,
        markerPath: `${DEEPGEMM_CACHE_MOUNT}/${marker}`,
      },
    );
  }

  async compileKernels(spec: Spec, options: { rolloutId: string } & LongStepOptions): Promise<KernelCompileResult> {
    const before = await this.kernelCacheStatus(spec);
    if (before.state === 'valid') return { status: before, skipped: true, durationMs: 0 };
    const raw = await this.runOps(spec, 'compile_deepgemm', { rollout_id: options.rolloutId }, options, {
      stage: 'compile',
      failureType: ErrorType.CompileFailed,
      limitSec: MODAL_FUNCTION_TIMEOUTS.compileSec,
    });
    const result = parseCallResult(raw, CompileResult, 'compile_deepgemm');
    return { status: await this.kernelCacheStatus(spec), skipped: result.skipped, durationMs: result.durationMs ?? 0 };
  }

  async invalidateKernels(
    spec: Spec,
    options?: { gpuType?: string; onlyIfRolloutId?: string },
  ): Promise<{ removed: boolean }> {
    const scope = { environment: spec.environment };
    const gpuType = (options?.gpuType ?? spec.gpu.type).toUpperCase();
    const marker = kernelMarkerName(spec.model.repo);
    const step = 'invalidate kernels';
    const text = await this.readVolumeFile(spec.volumes.kernels, marker, scope, step);
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
    await this.modal(commands.volumeRmArgv(spec.volumes.kernels, marker, false, scope), ErrorType.TransportError, step);
    await this.ignoreNotFound(() =>
      this.modal(
        commands.volumeRmArgv(spec.volumes.kernels, `deepgemm/${gpuType}`, true, scope),
        ErrorType.TransportError,
        step,
      ),
    );
    return { removed: true };
  }

  // ---- serving -------------------------------------------------------------------------------------------------

  async currentDeployment(app: string): Promise<Deployment | null> {
    const scope = this.scopeFor(app);
    const resolved = await this.resolveApp(app, scope, 'current deployment');
    if (!resolved?.isDeployed) return null;
    const entries = await this.historyEntries(app, scope, 'current deployment');
    const newest = entries[0];
    return newest ? this.toDeployment(app, resolved.appId, newest, entries, true) : null;
  }

  async deploy(spec: Spec, options: { rolloutId: string; signal?: AbortSignal }): Promise<Deployment> {
    const scope = { environment: spec.environment };
    this.appEnvironments.set(spec.app, spec.environment);
    const step = 'deploy';
    return this.guard.exclusive(lockKey(spec.app), async (lease) => {
      const before = await this.resolveApp(spec.app, scope, step);
      const entriesBefore = before?.isDeployed ? await this.historyEntries(spec.app, scope, step) : [];
      const retried = entriesBefore.find((entry) => entry.tag === options.rolloutId);
      if (before?.isDeployed && retried) return this.recordDeployment(spec, before.appId, retried, options.rolloutId);
      const output = await this.withConfig(spec, (env) =>
        this.run(this.modalBin, commands.deployArgv(this.deps.deployPy, spec.app, options.rolloutId, scope), {
          env: { ...env, GLM_OPS_DEPLOY_ROLE: 'serve', ...lease.env },
          timeoutMs: this.timeouts.deployMs,
          failureType: ErrorType.DeployFailed,
          step,
          onSpawn: lease.onSpawn,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      const after = await this.resolveApp(spec.app, scope, step);
      if (!after?.isDeployed) {
        throw new ModalCommandError(
          `${step}: modal deploy ${spec.app} returned, but the app is not deployed on Modal`,
          ErrorType.DeployFailed,
        );
      }
      const entries = await this.historyEntries(spec.app, scope, step);
      const deployed = entries.find((entry) => entry.tag === options.rolloutId);
      if (deployed) return this.recordDeployment(spec, after.appId, deployed, options.rolloutId);
      const current = entries[0];
      const isNoop =
        NOOP_DEPLOY_LINE.test(output.stdout) &&
        before?.appId === after.appId &&
        current !== undefined &&
        current.version === entriesBefore[0]?.version;
      if (isNoop) return this.recordUnchanged(spec, after.appId, current, options.rolloutId);
      throw new ModalCommandError(
        `${step}: modal deploy ${spec.app} exited 0 but no version in the history of ${after.appId} has tag ${options.rolloutId} ` +
          `and the client did not report a skipped deploy (last output: ${lastLines(output.stdout, 3)})`,
        ErrorType.DeployFailed,
      );
    });
  }

  async history(app: string): Promise<Deployment[]> {
    const scope = this.scopeFor(app);
    const resolved = await this.resolveApp(app, scope, 'history');
    if (!resolved) return [];
    const entries = await this.historyEntries(app, scope, 'history');
    return entries.flatMap((entry, index) => {
      const deployment = this.tryDeployment(app, resolved.appId, entry, entries, resolved.isDeployed && index === 0);
      return deployment ? [deployment] : [];
    });
  }

  async rollback(app: string, version: number): Promise<Deployment> {
    const scope = this.scopeFor(app);
    const step = 'rollback';
    return this.guard.exclusive(lockKey(app), async () => {
      const resolved = await this.resolveApp(app, scope, step);
      if (!resolved?.isDeployed)
        throw new ModalNotFoundError(`${step}: app ${app} is not deployed on Modal: nothing to roll back`);
      const before = await this.historyEntries(app, scope, step);
      if (!before.some((entry) => entry.version === version)) {
        throw new ModalNotFoundError(
          `${step}: app ${app} has no version v${version} (versions: ${before.map((e) => `v${e.version}`).join(', ') || 'none'})`,
        );
      }
      await this.modal(commands.appRollbackArgv(app, version, scope), ErrorType.DeployFailed, step);
      const after = await this.historyEntries(app, scope, step);
      const newest = after[0];
      if (!newest) throw new ModalOutputError(`${step}: modal app history ${app} is empty after a rollback`);
      const source = this.records.read(app, resolved.appId, version);
      if (source && newest.version !== version && !this.records.read(app, resolved.appId, newest.version)) {
        this.records.write({ ...source, version: newest.version, rolledBackFrom: version, confirmedBy: undefined });
      }
      return this.toDeployment(app, resolved.appId, newest, after, true);
    });
  }

  async stop(app: string): Promise<void> {
    const scope = this.scopeFor(app);
    await this.guard.exclusive(lockKey(app), async () => {
      try {
        await this.modal(commands.appStopArgv(app, scope), ErrorType.TransportError, 'stop');
      } catch (err) {
        // Stopping what is stopped (or was never deployed) is done: `app stop` exits 1 for both.
        const isStopped = err instanceof ModalCommandError && ALREADY_STOPPED.test(err.clientMessage ?? '');
        if (!isStopped && !(err instanceof ModalNotFoundError)) throw err;
      }
    });
  }

  async endpoint(app: string): Promise<Endpoint> {
    const output = await this.control(['endpoint', '--app', app, ...this.envArgs(app)], 'endpoint');
    const url = parseJsonLine(output.stdout, 'control.py endpoint').url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url))
      throw new ModalOutputError(`endpoint: control.py printed no URL for ${app}`);
    return { url };
  }

  async logs(app: string, options: { since?: string; limit?: number } = {}): Promise<LogLine[]> {
    const output = await this.modal(
      commands.appLogsArgv(app, options, this.scopeFor(app)),
      ErrorType.TransportError,
      'logs',
    );
    const lines = parseAppLogs(output.stdout);
    return options.limit !== undefined ? lines.slice(-options.limit) : lines;
  }

  async setMinContainers(app: string, minContainers: number): Promise<void> {
    if (!Number.isInteger(minContainers) || minContainers < 0) {
      throw new RangeError(`minContainers ${minContainers} must be an integer of 0 or more`);
    }
    await this.control(
      ['set-min-containers', '--app', app, ...this.envArgs(app), '--min', String(minContainers)],
      'set min containers',
    );
  }

  // ---- remote calls on the ops app -----------------------------------------------------------------------------

  /**
   * Runs one ops function to its end as a spawned call (not `modal run`, whose exit would stop the remote work): the
   * ops app is deployed first (idempotent), the call id goes out with the first progress report (a heartbeat), and a
   * retried attempt given that report re-attaches to the running call.
   */
  private async runOps(
    spec: Spec,
    fn: OpsFunction,
    kwargs: Record<string, unknown>,
    options: LongStepOptions,
    how: { stage: string; failureType: ErrorType; limitSec: number },
  ): Promise<unknown> {
    const opsApp = opsAppName(spec.app);
    if (opsApp.length > MODAL_NAME_MAX) {
      throw new ModalCommandError(
        `${how.stage}: app "${spec.app}" is too long for its ops app "${opsApp}" (Modal allows ${MODAL_NAME_MAX} characters): shorten app`,
        ErrorType.SpecInvalid,
      );
    }
    const scope = { environment: spec.environment };
    const step = how.stage;
    const control: CallControl = {
      spawn: async () => {
        const output = await this.run(this.pythonBin, commands.spawnArgv(this.controlPy, opsApp, fn, kwargs, scope), {
          timeoutMs: this.timeouts.quickMs,
          failureType: ErrorType.TransportError,
          step,
        });
        return Spawned.parse(parseJsonLine(output.stdout, 'control.py spawn')).callId;
      },
      status: async (callId, waitSec) => {
        const output = await this.run(this.pythonBin, commands.callStatusArgv(this.controlPy, callId, waitSec), {
          timeoutMs: this.timeouts.quickMs + waitSec * 1000,
          failureType: ErrorType.TransportError,
          step,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const parsed = CallStatus.safeParse(parseJsonLine(output.stdout, 'control.py call-status'));
        if (!parsed.success)
          throw new ModalOutputError(
            `${step}: control.py call-status printed an unexpected status: ${output.stdout.slice(0, 120)}`,
          );
        return parsed.data;
      },
      cancel: async (callId) => {
        await this.run(this.pythonBin, commands.cancelCallArgv(this.controlPy, callId), {
          timeoutMs: this.timeouts.quickMs,
          failureType: ErrorType.TransportError,
          step,
        });
      },
    };
    return runRemoteCall(control, {
      app: opsApp,
      function: fn,
      inputsHash: hashOf({ config: renderDeployConfig(spec), fn, kwargs }),
      stage: how.stage,
      failureType: how.failureType,
      limitMs: how.limitSec * 1000 + this.timeouts.callMarginMs,
      progressEveryMs: this.timeouts.progressEveryMs,
      pollWaitSec: this.timeouts.pollWaitSec,
      beforeSpawn: () => this.ensureOpsApp(spec, step),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.abortRemote ? { abortRemote: options.abortRemote } : {}),
      ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
      ...(this.deps.log ? { log: this.deps.log } : {}),
    });
  }

  /** `modal deploy` of the ops app for this spec's config, once per config per process; "skipped" is success. */
  private async ensureOpsApp(spec: Spec, step: string): Promise<void> {
    const opsApp = opsAppName(spec.app);
    const configHash = hashOf(renderDeployConfig(spec));
    if (this.opsDeployed.get(opsApp) === configHash) return;
    await this.guard.exclusive(lockKey(opsApp), (lease) =>
      this.withConfig(spec, (env) =>
        this.run(
          this.modalBin,
          commands.deployArgv(this.deps.deployPy, opsApp, undefined, { environment: spec.environment }),
          {
            env: { ...env, GLM_OPS_DEPLOY_ROLE: 'ops', ...lease.env },
            timeoutMs: this.timeouts.deployMs,
            failureType: ErrorType.DeployFailed,
            step: `${step} (deploy ${opsApp})`,
            onSpawn: lease.onSpawn,
          },
        ),
      ),
    );
    this.opsDeployed.set(opsApp, configHash);
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  private scopeFor(app: string): ModalScope {
    const environment =
      this.appEnvironments.get(app) ?? this.deps.environment ?? this.deps.env.MODAL_ENVIRONMENT?.trim();
    return environment ? { environment } : {};
  }

  private envArgs(app: string): string[] {
    const { environment } = this.scopeFor(app);
    return environment ? ['--env', environment] : [];
  }

  private run(
    file: string,
    args: string[],
    options: {
      env?: NodeJS.ProcessEnv;
      timeoutMs: number;
      failureType: ErrorType;
      step: string;
      signal?: AbortSignal;
      onSpawn?: (pid: number) => void;
    },
  ): Promise<CommandOutput> {
    return this.runner({
      file,
      args,
      env: options.env ?? this.deps.env,
      timeoutMs: options.timeoutMs,
      failureType: options.failureType,
      step: options.step,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    });
  }

  private modal(args: string[], failureType: ErrorType, step: string): Promise<CommandOutput> {
    return this.run(this.modalBin, args, { timeoutMs: this.timeouts.quickMs, failureType, step });
  }

  private control(args: string[], step: string): Promise<CommandOutput> {
    return this.run(this.pythonBin, [this.controlPy, ...args], {
      timeoutMs: this.timeouts.quickMs,
      failureType: ErrorType.TransportError,
      step,
    });
  }

  private async ignoreNotFound(body: () => Promise<unknown>): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (!(err instanceof ModalNotFoundError)) throw err;
    }
  }

  /** The app id behind a name: the deployed app, else the most recently stopped one (history names it too). */
  private async resolveApp(app: string, scope: ModalScope, step: string): Promise<ResolvedApp | undefined> {
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

  private async historyEntries(app: string, scope: ModalScope, step: string): Promise<HistoryEntry[]> {
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
  private async readVolumeFile(
    volume: string,
    remotePath: string,
    scope: ModalScope,
    step: string,
  ): Promise<string | null> {
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

  private async listVolume(
    volume: string,
    remotePath: string,
    scope: ModalScope,
    step: string,
  ): Promise<Map<string, number>> {
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

  private toWeightsStatus(spec: Spec, status: FunctionStatus): WeightsStatus {
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

  private recordDeployment(spec: Spec, appId: string, entry: HistoryEntry, rolloutId: string): Deployment {
    if (!this.records.read(spec.app, appId, entry.version)) {
      this.records.write({ app: spec.app, appId, version: entry.version, rolloutId, spec });
    }
    return { app: spec.app, version: entry.version, rolloutId, spec, deployedAt: entry.deployedAt, isCurrent: true };
  }

  /** Modal skipped the deploy: the version serving now runs exactly this spec's definition, so it is this spec. */
  private recordUnchanged(spec: Spec, appId: string, current: HistoryEntry, rolloutId: string): Deployment {
    const existing = this.records.read(spec.app, appId, current.version);
    const record: DeploymentRecord = {
      ...(existing ?? { app: spec.app, appId, version: current.version, rolloutId: current.tag ?? rolloutId }),
      spec,
      confirmedBy: [...new Set([...(existing?.confirmedBy ?? []), rolloutId])],
    };
    this.records.write(record);
    return {
      app: spec.app,
      version: current.version,
      rolloutId: record.rolloutId,
      spec,
      deployedAt: current.deployedAt,
      isCurrent: true,
    };
  }

  private tryDeployment(
    app: string,
    appId: string,
    entry: HistoryEntry,
    entries: HistoryEntry[],
    isCurrent: boolean,
  ): Deployment | undefined {
    const own = this.records.read(app, appId, entry.version);
    // Versions deployed outside glm-ops have no record: they run the code of the nearest older recorded version at best.
    const record =
      own ??
      entries
        .filter((e) => e.version < entry.version)
        .map((e) => this.records.read(app, appId, e.version))
        .find(Boolean);
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

  private toDeployment(
    app: string,
    appId: string,
    entry: HistoryEntry,
    entries: HistoryEntry[],
    isCurrent: boolean,
  ): Deployment {
    const deployment = this.tryDeployment(app, appId, entry, entries, isCurrent);
    if (!deployment) {
      throw new ModalNotFoundError(
        `app ${app} v${entry.version} (${appId}) has no glm-ops record (it was not deployed by glm-ops from this worker's state dir): ` +
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

/** One lock per app name: an app of the same name in another environment only waits a little longer. */
function lockKey(app: string): string {
  return `app.${app}`;
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

function byStoppedAt(a: AppListRow, b: AppListRow): number {
  return String(a.stopped_at ?? a.created_at ?? '').localeCompare(String(b.stopped_at ?? b.created_at ?? ''));
}

function lastLines(text: string, count: number): string {
  return text.trim().split(/\r?\n/).slice(-count).join(' | ') || '(none)';
}

/** The JSON object a helper printed as its last stdout line. */
function parseJsonLine(stdout: string, what: string): Record<string, unknown> {
  const line = stdout.trim().split(/\r?\n/).at(-1) ?? '';
  try {
    const value = JSON.parse(line) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below with the bytes that came instead.
  }
  throw new ModalOutputError(`${what} printed no JSON object (got: ${line.slice(0, 80)})`);
}
