import { findingOf, type LintRule } from '../finding';
import { GPU_CATALOG, lookupGpu } from '../gpu-catalog';

/** Every capacity and cost rule needs a GPU the catalog knows. */
export const unknownGpuType: LintRule = {
  id: 'unknown-gpu-type',
  summary: 'a GPU type the catalog does not know',
  reason: 'guide §20: GPU_TYPE decides SM arch (DeepGEMM kernels), VRAM (mem-fraction) and price',
  check(spec) {
    if (lookupGpu(spec.gpu.type)) return [];
    return [
      findingOf(this, {
        level: 'error',
        path: 'gpu.type',
        message: `gpu.type ${JSON.stringify(spec.gpu.type)} is not in the GPU catalog`,
        fix: `use one of ${Object.keys(GPU_CATALOG).join(', ')}`,
      }),
    ];
  },
};
