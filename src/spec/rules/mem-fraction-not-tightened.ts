import { findingOf, type LintRule } from '../finding';
import { GPU_CATALOG, lookupGpu } from '../gpu-catalog';
import { numberArg } from '../spec-args';

/** Less VRAM per GPU than B200 needs a lower mem-fraction-static. */
export const memFractionNotTightened: LintRule = {
  id: 'mem-fraction-not-tightened',
  summary: 'mem-fraction-static not tightened on a GPU with less VRAM than B200',
  reason: 'guide §20: tighten --mem-fraction-static if VRAM per GPU drops (B200 192 GB → H200 141 GB: 0.88 → 0.83)',
  check(spec) {
    const gpu = lookupGpu(spec.gpu.type);
    const value = numberArg(spec, 'mem-fraction-static');
    const reference = GPU_CATALOG.B200!;
    if (!gpu || value === undefined || gpu.vramGB >= reference.vramGB) return [];
    if (value <= gpu.recommendedMemFractionStatic) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'sglang.args.mem-fraction-static',
        message: `mem-fraction-static ${value} on ${gpu.type} (${gpu.vramGB} GB per GPU, less than B200's ${reference.vramGB} GB) is above the recommended ${gpu.recommendedMemFractionStatic}`,
        fix: `set mem-fraction-static to ${gpu.recommendedMemFractionStatic} and test KV headroom`,
      }),
    ];
  },
};
