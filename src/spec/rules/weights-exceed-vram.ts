import { findingOf, type LintRule } from '../finding';
import { lookupGpu } from '../gpu-catalog';

/** The checkpoint must fit in the replica's total VRAM. */
export const weightsExceedVram: LintRule = {
  id: 'weights-exceed-vram',
  summary: 'weights do not fit in gpu.count × VRAM (e.g. 700 GB on 8×H100 = 640 GB)',
  reason: 'guide overview/§8: ~700 GB FP8 weights on 8×B200 (~1.5 TB); SGLang cookbook: tp=16 on H100',
  check(spec) {
    const gpu = lookupGpu(spec.gpu.type);
    if (!gpu) return [];
    const totalGB = gpu.vramGB * spec.gpu.count;
    if (spec.model.weightsGB < totalGB) return [];
    const neededCount = Math.ceil(spec.model.weightsGB / gpu.vramGB / 0.8);
    return [
      findingOf(this, {
        level: 'error',
        path: 'model.weightsGB',
        message: `${spec.model.weightsGB} GB of weights do not fit in ${spec.gpu.count}×${gpu.type} (${totalGB} GB)`,
        fix:
          neededCount <= 8
            ? `use gpu.count ${neededCount} or more, or a larger GPU (B200: 192 GB)`
            : `use a GPU with more VRAM (8×B200 = 1536 GB, 8×H200 = 1128 GB)`,
      }),
    ];
  },
};
