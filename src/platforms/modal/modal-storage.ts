import * as path from 'node:path';
import * as z from 'zod';
import { ErrorType } from '../../shared/errors';
import { DEEPGEMM_CACHE_MOUNT, defaultModelPath, MODEL_CACHE_MOUNT } from '../../spec/argv-builder';
import { MODAL_FUNCTION_TIMEOUTS } from './deploy-config';
import type { Spec } from '../../spec/schema';
import { SENTINEL_FILE } from '../../storage/download-sentinel';
import { kernelMarkerName } from '../../storage/storage-layout';
import type {
  KernelCacheStatus,
  KernelCompileResult,
  LongStepOptions,
  StoragePort,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from '../platform';
import type { ModalCli } from './modal-cli';
import * as commands from './modal-commands';
import type { OpsCalls } from './modal-ops-calls';
import { parseCallResult } from './modal-remote-call';
import { judgeRemoteMarker, judgeRemoteWeights, parseRemoteSentinel } from './modal-remote-storage';

const FunctionStatus = z.object({
  state: z.enum(['valid', 'missing', 'partial', 'corrupt']),
  problems: z.array(z.string()),
  commit: z.string().nullable().optional(),
  fileCount: z.number(),
  bytes: z.number(),
  /** deploy.py names the files it re-hashed (touched since the sentinel) and why, with the same words as storage/. */
  rehashed: z
    .array(
      z.object({
        path: z.string(),
        reasons: z.array(z.enum(['mtime', 'ctime', 'inode', 'legacy-sentinel', 'full-check'])),
        isMatch: z.boolean(),
      }),
    )
    .optional(),
});
type FunctionStatus = z.infer<typeof FunctionStatus>;
const DownloadResult = z.object({
  skipped: z.boolean(),
  status: FunctionStatus,
  filesRepaired: z.array(z.string()).optional(),
  durationMs: z.number().optional(),
});
const CompileResult = z.object({ skipped: z.boolean(), durationMs: z.number().optional() }).loose();
const VerifyResult = z.object({ weights: FunctionStatus }).loose();
const CommitResult = z.object({ committed: z.enum(['weights', 'kernels']) }).loose();

/**
 * The StoragePort on Modal: the long steps (download, full verify, compile, commit) run as functions of the ops
 * app; the quick reads (the sentinel, the DeepGEMM marker, folder listings) go through `modal volume` and are
 * judged here, so a status costs seconds and no container.
 */
export class ModalStorage implements StoragePort {
  constructor(
    private readonly cli: ModalCli,
    private readonly ops: OpsCalls,
  ) {}

  async weightsStatus(spec: Spec, options: { full?: boolean } & LongStepOptions = {}): Promise<WeightsStatus> {
    if (options.full) {
      const result = await this.ops.run(spec, 'verify_setup', { full: true }, options, {
        stage: 'verify',
        failureType: ErrorType.TransportError,
        limitSec: MODAL_FUNCTION_TIMEOUTS.verifySec,
      });
      return toWeightsStatus(spec, parseCallResult(result, VerifyResult, 'verify_setup').weights);
    }
    const scope = { environment: spec.environment };
    const folder = weightsFolder(spec);
    const step = 'weights status';
    const sentinelText = await this.cli.readVolumeFile(spec.volumes.weights, `${folder}/${SENTINEL_FILE}`, scope, step);
    const sentinel = parseRemoteSentinel(sentinelText, SENTINEL_FILE);
    const base = {
      repo: spec.model.repo,
      path: defaultModelPath(spec),
      sentinelPath: `${defaultModelPath(spec)}/${SENTINEL_FILE}`,
    };
    if (sentinel.kind === 'absent') {
      const listing = await this.cli.listVolume(spec.volumes.weights, folder, scope, step);
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
      for (const [name, size] of await this.cli.listVolume(spec.volumes.weights, remote, scope, step)) {
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
    const raw = await this.ops.run(spec, 'download_model', {}, options, {
      stage: 'download',
      failureType: ErrorType.TransportError,
      limitSec: MODAL_FUNCTION_TIMEOUTS.downloadSec,
    });
    const result = parseCallResult(raw, DownloadResult, 'download_model');
    const status = toWeightsStatus(spec, result.status);
    return {
      status,
      skipped: result.skipped,
      bytesDownloaded: result.skipped ? 0 : status.bytes,
      filesDownloaded: result.skipped ? 0 : status.fileCount,
      ...(result.filesRepaired ? { filesRepaired: result.filesRepaired } : {}),
      durationMs: result.durationMs ?? 0,
    };
  }

  async commitVolume(spec: Spec, volume: VolumeKind, options: LongStepOptions = {}): Promise<void> {
    const raw = await this.ops.run(spec, 'commit_volume', { kind: volume }, options, {
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
      this.cli.readVolumeFile(spec.volumes.kernels, marker, scope, step),
      this.cli.readVolumeFile(spec.volumes.weights, `${weightsFolder(spec)}/${SENTINEL_FILE}`, scope, step),
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
    const raw = await this.ops.run(spec, 'compile_deepgemm', { rollout_id: options.rolloutId }, options, {
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
    const text = await this.cli.readVolumeFile(spec.volumes.kernels, marker, scope, step);
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
    await this.cli.modal(
      commands.volumeRmArgv(spec.volumes.kernels, marker, false, scope),
      ErrorType.TransportError,
      step,
    );
    await this.cli.ignoreNotFound(() =>
      this.cli.modal(
        commands.volumeRmArgv(spec.volumes.kernels, `deepgemm/${gpuType}`, true, scope),
        ErrorType.TransportError,
        step,
      ),
    );
    return { removed: true };
  }
}

function toWeightsStatus(spec: Spec, status: FunctionStatus): WeightsStatus {
  return {
    state: status.state,
    repo: spec.model.repo,
    ...(status.commit ? { commit: status.commit } : {}),
    path: defaultModelPath(spec),
    sentinelPath: `${defaultModelPath(spec)}/${SENTINEL_FILE}`,
    fileCount: status.fileCount,
    bytes: status.bytes,
    problems: status.problems,
    ...(status.rehashed ? { rehashed: status.rehashed } : {}),
  };
}

function weightsFolder(spec: Spec): string {
  return path.posix.relative(MODEL_CACHE_MOUNT, defaultModelPath(spec));
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
