import type { Spec } from '../spec/schema';
import type { RehashedFile } from '../storage/download-sentinel';
import type { TransferProgress } from '../storage/download-progress';
import type { KernelCacheStatus, KernelMarker } from '../storage/kernel-cache';

// The storage layer's own types, re-exported so that the port reads as one vocabulary for its callers.
export type { KernelCacheStatus, KernelMarker, RehashedFile };

/**
 * A call a remote platform runs on its own (a spawned Modal function call): kept in the heartbeat details, so that
 * a retried activity (worker crash, heartbeat timeout) re-attaches to it instead of starting the work again.
 */
export interface RemoteCallRef {
  /** The platform's id of the call (Modal's FunctionCall id, `fc-...`). */
  callId: string;
  /** What runs: the function name (`download_model`, `compile_deepgemm`, ...). */
  function: string;
  /** The app that runs it. */
  app: string;
  /** ISO time it was spawned: the original deadline survives a re-attach. */
  spawnedAt: string;
  /** Hash of the inputs (rendered config and arguments): a call for other inputs is never re-attached to. */
  inputsHash: string;
}

/** Progress of a long storage step, turned into activity heartbeats by the caller. */
export interface StorageProgress extends TransferProgress {
  /** The remote call doing the work, on platforms where it runs apart from the worker. */
  remoteCall?: RemoteCallRef;
}

/** How a caller drives a long storage step: progress out, stop in, and where a previous attempt got to. */
export interface LongStepOptions {
  onProgress?: ProgressCallback;
  /** Stop waiting (cancellation, heartbeat timeout, worker shutdown); remote work keeps running for a retry. */
  signal?: AbortSignal;
  /** Also stop the remote work: fired only when the rollout is aborted. */
  abortRemote?: AbortSignal;
  /** The last progress a previous attempt reported (its heartbeat details): re-attach to its remote call. */
  resumeFrom?: StorageProgress;
}

/** Called with progress; must not throw. */
export type ProgressCallback = (progress: StorageProgress) => void;

/** What the weights volume holds for a spec's repo and revision. */
export interface WeightsStatus {
  /** valid: sentinel present and files match; missing: nothing; partial: files but no sentinel; corrupt: sentinel but files differ. */
  state: 'valid' | 'missing' | 'partial' | 'corrupt';
  repo: string;
  /** The commit sha the revision resolved to, when known. */
  commit?: string;
  /** Where the weights live, keyed by repo and resolved revision. */
  path: string;
  sentinelPath: string;
  fileCount: number;
  bytes: number;
  /** Human-readable reasons for a state other than valid. */
  problems: string[];
  /** Files hashed by this check and why: touched since the sentinel (or every file with `full`). */
  rehashed?: RehashedFile[];
}

/** The result of ensureWeights. */
export interface WeightsResult {
  status: WeightsStatus;
  /** True when a valid sentinel made the download unnecessary. */
  skipped: boolean;
  bytesDownloaded: number;
  filesDownloaded: number;
  /** Files fetched again because they no longer held the bytes the sentinel vouched for. */
  filesRepaired?: string[];
  durationMs: number;
}

/** The result of compileKernels. */
export interface KernelCompileResult {
  status: KernelCacheStatus;
  /** True when a valid marker made the compile unnecessary. */
  skipped: boolean;
  durationMs: number;
}

/** Which volume a commit applies to. */
export type VolumeKind = 'weights' | 'kernels';

/** One deployed version of an app. */
export interface Deployment {
  app: string;
  /** Monotonic version number (Modal's vN). */
  version: number;
  /** The rollout that created it; a retried deploy with the same id returns the same version. */
  rolloutId: string;
  /** The spec this version runs, so upgrades can recover what is deployed. */
  spec: Spec;
  deployedAt: string;
  /** Whether this version is the one traffic goes to. */
  isCurrent: boolean;
}

/** A version that passed its gates (smoke after a rollout, /health after a rollback), as the platform recorded it. */
export interface VerifiedDeployment extends Deployment {
  /** ISO time of its latest verification. */
  verifiedAt: string;
}

/** A stable URL for an app. */
export interface Endpoint {
  url: string;
}

/** One captured log line. */
export interface LogLine {
  /** ISO time the line was captured. */
  time: string;
  /** stdout/stderr of the engine, or `system` for the platform's own lines (monitor, router). */
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/** Storage side of a platform: weights, volumes, kernels. */
export interface StoragePort {
  weightsStatus(spec: Spec, options?: { full?: boolean } & LongStepOptions): Promise<WeightsStatus>;
  /** Download-with-sentinel; resumes partial files; skips when the sentinel is valid. */
  ensureWeights(spec: Spec, options?: LongStepOptions): Promise<WeightsResult>;
  /** Make staged writes visible to readers that reload. */
  commitVolume(spec: Spec, volume: VolumeKind, options?: LongStepOptions): Promise<void>;
  kernelCacheStatus(spec: Spec): Promise<KernelCacheStatus>;
  /** Compile unless the marker is valid; marker written last, then the kernels volume committed. */
  compileKernels(spec: Spec, options: { rolloutId: string } & LongStepOptions): Promise<KernelCompileResult>;
  /** Remove the marker first, then the cache, for the spec's GPU type (or the one named). */
  invalidateKernels(
    spec: Spec,
    options?: { gpuType?: string; onlyIfRolloutId?: string },
  ): Promise<{ removed: boolean }>;
}

/** Serving side of a platform: versions, routing, logs, scaling. */
export interface ServingPort {
  currentDeployment(app: string): Promise<Deployment | null>;
  /**
   * Record a new version and route traffic to it; idempotent by rolloutId. `signal` stops the deploy (only on an
   * abort: a deploy that merely outlived its attempt finishes, and the retry finds it). `isTrial`: a tune's throw-away
   * candidate, deployed to be measured: the guide's lint errors (predictions such as "OOMs under load") do not refuse
   * it, since the trial finds out (the schema still does; Modal never lints at deploy).
   */
  deploy(spec: Spec, options: { rolloutId: string; signal?: AbortSignal; isTrial?: boolean }): Promise<Deployment>;
  history(app: string): Promise<Deployment[]>;
  /** Route traffic back to an existing version (throws NotFound for an unknown one). */
  rollback(app: string, version: number): Promise<Deployment>;
  stop(app: string): Promise<void>;
  endpoint(app: string): Promise<Endpoint>;
  logs(app: string, options?: { since?: string; limit?: number }): Promise<LogLine[]>;
  setMinContainers(app: string, minContainers: number): Promise<void>;
  /**
   * Records that `version` passed its gates, durably on the platform's side (it survives the workflow that verified
   * it, even a `temporal workflow terminate`); re-marking a version makes it the latest. NotFound for an unknown one.
   */
  markVerified(app: string, version: number): Promise<void>;
  /**
   * The most recently verified version that the app still has (other than `excluding`), or null when none was ever
   * verified: the way back for a compensation and the default of `rollback`, rather than whatever is routed now.
   */
  lastVerified(app: string, options?: { excluding?: number }): Promise<VerifiedDeployment | null>;
}

/** A place GLM-5.1 can be deployed: the local platform or Modal. */
export interface Platform extends StoragePort, ServingPort {
  readonly name: 'local' | 'modal';
}
