import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../spec/schema';
import { evaluateWeightsDir, SENTINEL_FILE, DownloadSentinel } from '../../storage/download-sentinel';
import type { FileRetryPolicy } from '../../storage/file-download';
import { fetchModelInfo, type HubConnection } from '../../storage/hub-api-client';
import { evaluateKernelCache, readMarker, writeMarker, type KernelTarget } from '../../storage/kernel-cache';
import { LocalVolume } from '../../storage/local-volume';
import { downloadSnapshot } from '../../storage/snapshot-download';
import { kernelMarkerName, kernelRelativeDir, repoRelativeDir, weightsRelativeDir } from '../../storage/storage-layout';
import { CompileFailedError } from '../../storage/storage-errors';
import type {
  KernelCacheStatus,
  KernelCompileResult,
  LongStepOptions,
  ProgressCallback,
  StoragePort,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from '../platform';
import type { EnginePaths } from './engine-factory';
import { type KernelCompileCommand, readCompileManifest, runKernelCompile } from './kernel-compile';

/** What the local storage adapter needs. The hub token stays in here; it is never returned or logged. */
export interface LocalStorageDeps extends KernelCompileCommand {
  /** `<stateDir>/volumes`: one folder per volume. */
  volumesRoot: string;
  /** The Hugging Face–compatible hub (`HF_ENDPOINT`). */
  hubUrl: string;
  /** `HF_TOKEN`. */
  hubToken?: string;
  /** Parallel file downloads. @default 8 */
  downloadConcurrency?: number;
  retry?: Partial<FileRetryPolicy>;
}

/**
 * The StoragePort of the local platform: weights from a hub into a volume with download-with-sentinel,
 * Modal-like commit/reload, and a GPU- and image-keyed DeepGEMM cache compiled by the emulator's twin.
 */
export class LocalStorage implements StoragePort {
  private readonly connection: HubConnection;

  constructor(private readonly deps: LocalStorageDeps) {
    this.connection = deps.hubToken ? { endpoint: deps.hubUrl, token: deps.hubToken } : { endpoint: deps.hubUrl };
  }

  /** The weights state in the committed view (what a server that reloads would see), plus uncommitted hints. */
  async weightsStatus(spec: Spec, options: { full?: boolean } & LongStepOptions = {}): Promise<WeightsStatus> {
    const volume = this.volume(spec, 'weights');
    const reader = await volume.openReader();
    const commit = await this.resolveCommit(spec).catch((err: Error) => err);
    if (commit instanceof Error) {
      const dir = reader.path(repoRelativeDir(spec.model.repo));
      return {
        state: 'missing',
        repo: spec.model.repo,
        path: dir,
        sentinelPath: path.join(dir, '<commit>', SENTINEL_FILE),
        fileCount: 0,
        bytes: 0,
        problems: [`revision "${spec.model.revision}" could not be resolved: ${commit.message}`],
      };
    }
    const relative = weightsRelativeDir(spec.model.repo, commit);
    const dir = reader.path(relative);
    const ctimeVoucher = await volume.ctimeVoucher();
    const verdict = await evaluateWeightsDir(dir, {
      expected: { repo: spec.model.repo, commit },
      full: options.full,
      ctimeVoucher,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const problems = [...verdict.problems];
    if (verdict.state !== 'valid') {
      const staged = await evaluateWeightsDir(path.join(await volume.stagingDir(), relative), {
        expected: { repo: spec.model.repo, commit },
        ctimeVoucher,
      });
      if (staged.state === 'valid') {
        problems.push(
          `a complete download sits in the volume's staging view but was never committed: ` +
            `commit the ${spec.volumes.weights} volume, then reload (guide §18 FileNotFoundError)`,
        );
      }
    }
    const counted = verdict.sentinel
      ? { fileCount: verdict.sentinel.files.length, bytes: verdict.sentinel.totalBytes }
      : await countFiles(dir);
    return {
      state: verdict.state,
      repo: spec.model.repo,
      commit,
      path: dir,
      sentinelPath: path.join(dir, SENTINEL_FILE),
      ...counted,
      problems,
      rehashed: verdict.rehashed,
    };
  }

  /** Download-with-sentinel into the weights volume's staging view; commit it with {@link commitVolume}. */
  async ensureWeights(
    spec: Spec,
    options: { onProgress?: ProgressCallback; signal?: AbortSignal } = {},
  ): Promise<WeightsResult> {
    const volume = this.volume(spec, 'weights');
    const staging = await volume.stagingDir();
    const result = await downloadSnapshot({
      connection: this.connection,
      repo: spec.model.repo,
      revision: spec.model.revision,
      dirFor: (commit) => path.join(staging, weightsRelativeDir(spec.model.repo, commit)),
      concurrency: this.deps.downloadConcurrency,
      retry: this.deps.retry,
      onProgress: options.onProgress,
      signal: options.signal,
      ctimeVoucher: await volume.ctimeVoucher(),
    });
    return {
      status: {
        state: 'valid',
        repo: spec.model.repo,
        commit: result.commit,
        path: result.dir,
        sentinelPath: path.join(result.dir, SENTINEL_FILE),
        fileCount: result.sentinel.files.length,
        bytes: result.sentinel.totalBytes,
        problems: [],
        rehashed: result.rehashed,
      },
      skipped: result.skipped,
      bytesDownloaded: result.bytesDownloaded,
      filesDownloaded: result.filesDownloaded,
      filesRepaired: result.filesRepaired,
      durationMs: result.durationMs,
    };
  }

  /** Publishes the volume's staged writes as a new generation (Modal's `Volume.commit()`). */
  async commitVolume(spec: Spec, volume: VolumeKind): Promise<void> {
    await this.volume(spec, volume).commit();
  }

  /** The kernel cache state in the committed view of the kernels volume. */
  async kernelCacheStatus(spec: Spec): Promise<KernelCacheStatus> {
    const reader = await this.volume(spec, 'kernels').openReader();
    return evaluateKernelCache(reader.root, await this.kernelTarget(spec));
  }

  /**
   * Compiles unless the committed marker is valid: clears the target's folder (marker first), runs the compile
   * command against the committed weights, checks its manifest, writes the marker last, then commits the volume.
   */
  async compileKernels(
    spec: Spec,
    options: { rolloutId: string; onProgress?: ProgressCallback; signal?: AbortSignal },
  ): Promise<KernelCompileResult> {
    const startedMs = Date.now();
    const current = await this.kernelCacheStatus(spec);
    if (current.state === 'valid') return { status: current, skipped: true, durationMs: Date.now() - startedMs };
    const target = await this.kernelTarget(spec);
    const weights = await this.weightsStatus(spec);
    if (weights.state !== 'valid') {
      throw new CompileFailedError(
        `the weights for ${spec.model.repo}@${target.modelRevision} are ${weights.state} ` +
          `in the committed view of ${spec.volumes.weights} ` +
          `(${weights.problems.join('; ') || 'no sentinel'}): run ensureWeights and commit the weights volume first`,
        null,
        null,
      );
    }
    const kernels = this.volume(spec, 'kernels');
    const dir = path.join(await kernels.stagingDir(), kernelRelativeDir(spec.gpu.type, spec.sglang.image));
    const markerPath = path.join(dir, kernelMarkerName(spec.model.repo));
    await fs.promises.rm(markerPath, { force: true });
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(dir, { recursive: true });
    await runKernelCompile(spec, weights.path, dir, this.deps, options);
    const { smArch } = await readCompileManifest(spec, dir);
    await writeMarker(markerPath, {
      model: spec.model.repo,
      gpuType: spec.gpu.type.toUpperCase(),
      smArch,
      sglangImage: spec.sglang.image,
      modelRevision: target.modelRevision,
      compiledAt: new Date().toISOString(),
      rolloutId: options.rolloutId,
    });
    await kernels.commit();
    return { status: await this.kernelCacheStatus(spec), skipped: false, durationMs: Date.now() - startedMs };
  }

  /** Removes the marker first, then the cache, for the spec's GPU type (or the named one), and commits. */
  async invalidateKernels(
    spec: Spec,
    options: { gpuType?: string; onlyIfRolloutId?: string } = {},
  ): Promise<{ removed: boolean }> {
    const kernels = this.volume(spec, 'kernels');
    const dir = path.join(
      await kernels.stagingDir(),
      kernelRelativeDir(options.gpuType ?? spec.gpu.type, spec.sglang.image),
    );
    const markerPath = path.join(dir, kernelMarkerName(spec.model.repo));
    const marker = await readMarker(markerPath);
    if (
      options.onlyIfRolloutId !== undefined &&
      (marker === undefined || marker === 'malformed' || marker.rolloutId !== options.onlyIfRolloutId)
    ) {
      return { removed: false };
    }
    const existed = fs.existsSync(dir);
    await fs.promises.rm(markerPath, { force: true });
    await fs.promises.rm(dir, { recursive: true, force: true });
    if (existed) await kernels.commit();
    return { removed: existed };
  }

  /** Reloads both volumes and returns the committed paths to start the engine with. */
  async enginePaths(spec: Spec): Promise<EnginePaths> {
    const commit = await this.resolveCommit(spec);
    const weights = await this.volume(spec, 'weights').openReader();
    const kernels = await this.volume(spec, 'kernels').openReader();
    return {
      modelPath: weights.path(weightsRelativeDir(spec.model.repo, commit)),
      kernelCacheDir: kernels.path(kernelRelativeDir(spec.gpu.type, spec.sglang.image)),
    };
  }

  /** The volume a spec names for weights or kernels. */
  volume(spec: Spec, kind: VolumeKind): LocalVolume {
    return new LocalVolume(this.deps.volumesRoot, spec.volumes[kind]);
  }

  /**
   * The commit a spec's revision pins to: a 40-hex revision as is, otherwise the hub's answer; when the hub is
   * unreachable, the newest committed or staged sentinel that recorded the same revision.
   */
  async resolveCommit(spec: Spec): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(spec.model.revision)) return spec.model.revision;
    try {
      return (
        await fetchModelInfo(this.connection, spec.model.repo, spec.model.revision, { attempts: 2, maxBackoffMs: 500 })
      ).sha;
    } catch (err) {
      const known = await this.sentinelForRevision(spec);
      if (known) return known.commit;
      throw err;
    }
  }

  private async sentinelForRevision(spec: Spec): Promise<DownloadSentinel | undefined> {
    const volume = this.volume(spec, 'weights');
    const roots = [(await volume.openReader()).root, await volume.stagingDir()];
    let newest: DownloadSentinel | undefined;
    for (const root of roots) {
      const repoDir = path.join(root, repoRelativeDir(spec.model.repo));
      for (const commit of await fs.promises.readdir(repoDir).catch(() => [] as string[])) {
        try {
          const sentinel = DownloadSentinel.parse(
            JSON.parse(await fs.promises.readFile(path.join(repoDir, commit, SENTINEL_FILE), 'utf8')),
          );
          if (sentinel.revision === spec.model.revision && (!newest || sentinel.completedAt > newest.completedAt))
            newest = sentinel;
        } catch {
          // Not a finished download.
        }
      }
    }
    return newest;
  }

  private async kernelTarget(spec: Spec): Promise<KernelTarget> {
    const modelRevision = await this.resolveCommit(spec).catch(() => spec.model.revision);
    return { repo: spec.model.repo, gpuType: spec.gpu.type, sglangImage: spec.sglang.image, modelRevision };
  }
}

async function countFiles(dir: string): Promise<{ fileCount: number; bytes: number }> {
  let fileCount = 0;
  let bytes = 0;
  const entries = await fs.promises.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    fileCount += 1;
    bytes += (await fs.promises.stat(path.join(entry.parentPath, entry.name))).size;
  }
  return { fileCount, bytes };
}
