import { findingOf, type LintRule } from '../finding';
import { lookupGpu } from '../gpu-catalog';
import { stringArg, usesFp8Kv } from '../spec-args';

/** FP8 KV on Blackwell regressed accuracy and is slower than BF16 once dequant is counted. */
export const fp8KvOnBlackwell: LintRule = {
  id: 'fp8-kv-on-blackwell',
  summary: 'FP8 KV cache dtype on a Blackwell GPU',
  reason: 'SGLang #21291 (flash MLA KV accuracy regression on B200) and #17526 (FP8 KV slower than BF16); guide §3',
  check(spec) {
    const gpu = lookupGpu(spec.gpu.type);
    if (!usesFp8Kv(spec) || !gpu?.isBlackwell) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'sglang.args.kv-cache-dtype',
        message: `kv-cache-dtype ${stringArg(spec, 'kv-cache-dtype')} on ${gpu.type} (${gpu.smArch}) risks garbled output and is not faster`,
        fix: 'remove kv-cache-dtype to keep the BF16 KV cache',
      }),
    ];
  },
};
