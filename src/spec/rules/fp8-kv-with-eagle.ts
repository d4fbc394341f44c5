import { findingOf, type LintRule } from '../finding';
import { stringArg, usesEagle, usesFp8Kv } from '../spec-args';

/** FP8 KV cache together with EAGLE speculative decoding crashes the engine. */
export const fp8KvWithEagle: LintRule = {
  id: 'fp8-kv-with-eagle',
  summary: 'FP8 KV cache dtype together with EAGLE speculative decoding',
  reason: 'SGLang #22359: EAGLE + FP8 KV has a known crash path (guide §3, §11, §14)',
  check(spec) {
    if (!usesFp8Kv(spec) || !usesEagle(spec)) return [];
    return [
      findingOf(this, {
        level: 'error',
        path: 'sglang.args.kv-cache-dtype',
        message: `kv-cache-dtype ${stringArg(spec, 'kv-cache-dtype')} with speculative-algorithm ${stringArg(spec, 'speculative-algorithm')} crashes the engine`,
        fix: 'remove kv-cache-dtype so SGLang keeps the BF16 KV cache (the guide omits it on purpose)',
      }),
    ];
  },
};
