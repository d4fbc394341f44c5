import { isSpeculative, type EngineArgs } from './engine-args';
import type { EmulatedGpu } from './gpu-table';
import { kvBytesPerToken, sizeKvPool, type KvPoolSize } from './kv-pool';
import { resolveSpeculative, type SpeculativeSettings } from './timing-model';

/**
 * What one engine's launch flags and GPUs give it to serve with: the KV pool, whether the load OOMs, the decode slots
 * and the EAGLE settings it runs. The live engine and the offline prediction (`predictCandidate`) both take it from
 * here, so the twin has one model of a candidate.
 */
export interface EngineCapacity {
  pool: KvPoolSize;
  /** The pool in tokens (`max_total_num_tokens`); 0 when memory leaves none. */
  poolTokens: number;
  /**
   * `--mem-fraction-static` above the GPU's limit (B200 0.90, H200 0.85; guide §4, §20): the static share leaves too
   * little for the CUDA-graph buffers and the load dies with a CUDA OOM, as recorded at 0.99. The twin applies the
   * limit whatever `--max-total-tokens` caps the pool at (a real SGLang with a small capped pool may leave enough).
   */
  isOom: boolean;
  /** Why it cannot serve (OOM or no room for a KV pool), in SGLang's words; undefined when it can. */
  failure: string | undefined;
  bytesPerToken: number;
  weightsPerGpuGiB: number;
  isSpeculative: boolean;
  speculative: SpeculativeSettings & { isDraftTokensAdjusted: boolean };
  maxRunningRequests: number;
}

/** The capacity of an engine launched with `args` on `gpu` × `--tp`, holding a checkpoint of `checkpointGiB`. */
export function engineCapacity(args: EngineArgs, gpu: EmulatedGpu, checkpointGiB: number): EngineCapacity {
  const speculative = isSpeculative(args);
  const bytesPerToken = kvBytesPerToken(args.kvCacheDtype, speculative);
  const weightsPerGpuGiB = checkpointGiB / Math.max(1, args.tp);
  const pool = sizeKvPool({
    vramGiB: gpu.vramGiB,
    weightsPerGpuGiB,
    memFractionStatic: args.memFractionStatic,
    maxTotalTokens: args.maxTotalTokens,
    bytesPerToken,
  });
  const isOom = args.memFractionStatic > gpu.maxMemFractionStatic;
  const failure = !pool.ok
    ? pool.reason
    : isOom
      ? `--mem-fraction-static ${args.memFractionStatic} is above what ${gpu.type} leaves room for ` +
        `(${gpu.maxMemFractionStatic}): CUDA out of memory while building the CUDA-graph buffers`
      : undefined;
  return {
    pool,
    poolTokens: pool.ok ? pool.tokens : 0,
    isOom,
    failure,
    bytesPerToken,
    weightsPerGpuGiB,
    isSpeculative: speculative,
    speculative: resolveSpeculative({
      numSteps: args.speculativeNumSteps,
      topk: args.speculativeEagleTopk,
      numDraftTokens: args.speculativeNumDraftTokens,
    }),
    maxRunningRequests: args.maxRunningRequests,
  };
}
