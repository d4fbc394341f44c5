import { findingOf, type LintRule } from '../finding';
import { tensorParallel } from '../spec-args';

/** Tensor parallelism shards the model over every GPU of the replica. */
export const tpMatchesGpuCount: LintRule = {
  id: 'tp-matches-gpu-count',
  summary: 'tp does not match gpu.count',
  reason:
    'guide Configuration §2: --tp str(GPU_COUNT) shards the MoE over all eight GPUs; GPU_COUNT must match the compile hardware',
  check(spec) {
    const tp = tensorParallel(spec);
    if (!tp || tp.size === spec.gpu.count) return [];
    return [
      findingOf(this, {
        level: 'error',
        path: tp.path,
        message: `tp ${tp.size} does not match gpu.count ${spec.gpu.count}: ${tp.size > spec.gpu.count ? 'SGLang cannot start more ranks than GPUs' : 'GPUs sit idle and the shards may not fit'}`,
        fix: `set tp to ${spec.gpu.count} (or remove it: glm-ops renders --tp from gpu.count)`,
      }),
    ];
  },
};
