import { findingOf, type LintRule } from '../finding';
import { numberArg } from '../spec-args';

/** The guide's ceiling for --mem-fraction-static on its reference hardware. */
export const MAX_MEM_FRACTION_STATIC = 0.88;

/** mem-fraction-static above the guide's 0.88 leaves too little for activations and OOMs under load. */
export const memFractionAboveMax: LintRule = {
  id: 'mem-fraction-above-max',
  summary: 'mem-fraction-static above 0.88',
  reason: 'guide §1, §4 (OOM under load: drop toward 0.85), §17 ("SGLang died (code -9)" = OOM killer)',
  check(spec) {
    const value = numberArg(spec, 'mem-fraction-static');
    if (value === undefined || value <= MAX_MEM_FRACTION_STATIC) return [];
    return [
      findingOf(this, {
        level: 'error',
        path: 'sglang.args.mem-fraction-static',
        message: `mem-fraction-static ${value} exceeds ${MAX_MEM_FRACTION_STATIC}: the engine OOMs under load (exit -9)`,
        fix: `lower mem-fraction-static to ${MAX_MEM_FRACTION_STATIC} or below (0.85 if OOM recurs)`,
      }),
    ];
  },
};
