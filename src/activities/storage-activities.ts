import { activityInfo, Context, log } from '@temporalio/activity';
import type {
  KernelCacheStatus,
  KernelCompileResult,
  LongStepOptions,
  StoragePort,
  StorageProgress,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from '../platforms/platform';
import type { Spec } from '../spec/schema';
import { keepHeartbeating } from './keep-heartbeating';
import { withFailureTypes } from './to-application-failure';

/** What storage activities need: the storage side of the platform a spec runs on. */
export interface StorageActivityDeps {
  platformFor(spec: Spec): StoragePort;
  /** Minimum gap between heartbeats. @default 1000 */
  heartbeatIntervalMs?: number;
}

/**
 * Activities over weights, volumes and kernels. Long steps heartbeat their progress about once a second and stop
 * when the activity is cancelled; domain errors become typed ApplicationFailures with structured details.
 */
export const createStorageActivities = (deps: StorageActivityDeps) => {
  const intervalMs = deps.heartbeatIntervalMs ?? 1000;
  return withFailureTypes({
    /** The weights state in the committed volume view (`full` re-hashes every file, heartbeating while it runs). */
    async weightsStatus(input: { spec: Spec; full?: boolean }): Promise<WeightsStatus> {
      if (input.full !== true) return deps.platformFor(input.spec).weightsStatus(input.spec, { full: false });
      return asLongStep('verify', intervalMs, (long) =>
        deps.platformFor(input.spec).weightsStatus(input.spec, { full: true, ...long }),
      );
    },

    /** Download-with-sentinel of the spec's repo and revision, resumable; heartbeats bytes, files and rate. */
    async ensureWeights(input: { spec: Spec }): Promise<WeightsResult> {
      const result = await asLongStep('download', intervalMs, (long) =>
        deps.platformFor(input.spec).ensureWeights(input.spec, long),
      );
      log.info('weights ready', {
        repo: input.spec.model.repo,
        commit: result.status.commit,
        skipped: result.skipped,
        bytesDownloaded: result.bytesDownloaded,
      });
      return result;
    },

    /** Publishes staged writes of a volume so servers that reload see them (a remote call on Modal: heartbeats). */
    async commitVolume(input: { spec: Spec; volume: VolumeKind }): Promise<void> {
      await asLongStep(`commit ${input.volume}`, intervalMs, (long) =>
        deps.platformFor(input.spec).commitVolume(input.spec, input.volume, long),
      );
    },

    /** Whether the DeepGEMM cache matches the spec's GPU, image and model revision. */
    async kernelCacheStatus(input: { spec: Spec }): Promise<KernelCacheStatus> {
      return deps.platformFor(input.spec).kernelCacheStatus(input.spec);
    },

    /** Compiles DeepGEMM kernels unless a valid marker exists; the marker is written last, then committed. */
    async compileKernels(input: { spec: Spec; rolloutId: string }): Promise<KernelCompileResult> {
      return asLongStep('compile', intervalMs, (long) =>
        deps.platformFor(input.spec).compileKernels(input.spec, { rolloutId: input.rolloutId, ...long }),
      );
    },

    /** Removes a kernel cache (marker first); with `onlyIfRolloutId`, only the one that rollout compiled. */
    async invalidateKernels(input: {
      spec: Spec;
      gpuType?: string;
      onlyIfRolloutId?: string;
    }): Promise<{ removed: boolean }> {
      return deps.platformFor(input.spec).invalidateKernels(input.spec, {
        ...(input.gpuType ? { gpuType: input.gpuType } : {}),
        ...(input.onlyIfRolloutId ? { onlyIfRolloutId: input.onlyIfRolloutId } : {}),
      });
    },
  });
};

/** The storage activities' surface, for workflows' `proxyActivities`. */
export type StorageActivities = ReturnType<typeof createStorageActivities>;

/**
 * Runs a long step with its options, and keeps heartbeating its latest progress every couple of seconds between
 * progress reports: a step can go quiet for long (a marker check or a `modal` call before a remote call starts, a slow
 * hash on a loaded machine), and a quiet step would be declared lost after the heartbeat timeout although it runs.
 * The body reacts to cancellation itself (through its signals), so it always runs to its end.
 */
async function asLongStep<T>(stage: string, intervalMs: number, body: (long: LongStepOptions) => Promise<T>) {
  const { options, latest } = longStep(stage, intervalMs);
  return keepHeartbeating<T>(() => body(options), { onCancel: 'finish', details: latest });
}

/**
 * What a long step gets from its activity: throttled heartbeats, the cancellation signal, a second signal fired only
 * when the workflow asked for the cancellation (a rollout abort: remote work is cancelled too), and the previous
 * attempt's last heartbeat, whose remote call a retry re-attaches to. The first heartbeat carries that call forward,
 * so an attempt that dies before re-attaching does not lose it for the next one.
 */
function longStep(
  stage: string,
  intervalMs: number,
): {
  options: LongStepOptions;
  latest: () => StorageProgress | undefined;
} {
  const resumeFrom = activityInfo().heartbeatDetails as StorageProgress | undefined;
  const context = Context.current();
  const signal = context.cancellationSignal;
  const abortRemote = new AbortController();
  // The listener runs outside the activity's async context: read the details from the captured context.
  signal.addEventListener(
    'abort',
    () => {
      if (context.cancellationDetails?.cancelRequested) abortRemote.abort();
    },
    { once: true },
  );
  if (resumeFrom?.remoteCall)
    log.info(`[${stage}] retry: the previous attempt ran remote call ${resumeFrom.remoteCall.callId}`);
  const { onProgress, latest } = throttledHeartbeat(intervalMs, context);
  onProgress({
    stage,
    bytesDone: 0,
    bytesTotal: 0,
    filesDone: 0,
    filesTotal: 0,
    rateBytesPerSec: 0,
    ...(resumeFrom?.remoteCall ? { remoteCall: resumeFrom.remoteCall } : {}),
  });
  return {
    options: { onProgress, signal, abortRemote: abortRemote.signal, ...(resumeFrom ? { resumeFrom } : {}) },
    latest,
  };
}

/**
 * Heartbeats at most every `intervalMs`, except the last file and a new remote call, which go out at once; `latest` is
 * the newest progress reported, throttled or not, for the keep-alive beats.
 */
function throttledHeartbeat(
  intervalMs: number,
  context: Context,
): { onProgress: (progress: StorageProgress) => void; latest: () => StorageProgress | undefined } {
  let lastMs = 0;
  let lastCallId: string | undefined;
  let newest: StorageProgress | undefined;
  const onProgress = (progress: StorageProgress): void => {
    newest = progress;
    const nowMs = Date.now();
    const isLast = progress.filesTotal > 0 && progress.filesDone === progress.filesTotal;
    const isNewCall = progress.remoteCall !== undefined && progress.remoteCall.callId !== lastCallId;
    if (nowMs - lastMs < intervalMs && !isLast && !isNewCall) return;
    lastMs = nowMs;
    lastCallId = progress.remoteCall?.callId ?? lastCallId;
    // Called from timers and child-process callbacks too: the captured context does not depend on where.
    context.heartbeat(progress);
  };
  return { onProgress, latest: () => newest };
}
