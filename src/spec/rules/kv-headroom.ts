import { findingOf, type LintRule } from '../finding';
import { lookupGpu } from '../gpu-catalog';
import { numberArg } from '../spec-args';
import { MAX_MEM_FRACTION_STATIC } from './mem-fraction-above-max';

/** Below this share of the static pool, the KV cache is too small to serve the guide's concurrency. */
export const MIN_KV_SHARE_OF_STATIC_POOL = 0.1;

/** mem-fraction-static sizes weights + KV pool together; what is left after the weights is the KV cache. */
export const kvHeadroom: LintRule = {
  id: 'kv-headroom',
  summary: 'weights leave no (or too little) KV cache at the chosen mem-fraction-static',
  reason:
    'guide §1, §9: mem-fraction reserves KV after weights load; SGLang sizes its static pool as mem-fraction × VRAM',
  check(spec) {
    const gpu = lookupGpu(spec.gpu.type);
    if (!gpu) return [];
    const totalGB = gpu.vramGB * spec.gpu.count;
    if (spec.model.weightsGB >= totalGB) return [];
    const memFraction = numberArg(spec, 'mem-fraction-static') ?? MAX_MEM_FRACTION_STATIC;
    const staticPoolGB = totalGB * memFraction;
    const kvGB = staticPoolGB - spec.model.weightsGB;
    if (kvGB >= staticPoolGB * MIN_KV_SHARE_OF_STATIC_POOL) return [];
    const describe = `mem-fraction-static ${memFraction} × ${totalGB} GB = ${staticPoolGB.toFixed(0)} GB static pool`;
    return [
      findingOf(this, {
        level: kvGB <= 0 ? 'error' : 'warning',
        path: 'sglang.args.mem-fraction-static',
        message:
          kvGB <= 0
            ? `${describe} cannot hold ${spec.model.weightsGB} GB of weights: no KV cache is left`
            : `${describe} leaves only ${kvGB.toFixed(0)} GB of KV cache after ${spec.model.weightsGB} GB of weights (under ${MIN_KV_SHARE_OF_STATIC_POOL * 100}% of the pool)`,
        fix: 'use more or larger GPUs; raising mem-fraction-static past 0.88 trades KV room for OOMs',
      }),
    ];
  },
};
