import type { FixContext } from './triage-rule';

/** The guide's step for a recurring OOM (§17, §18): 0.88 → 0.85. */
const GUIDE_STEP = 0.03;

// PyTorch names the other holders of the GPU's memory: `Process 782 has 137.68 GiB memory in use.` (recorded when a
// second server started on a GPU the first one filled).
const OTHER_PROCESS = /\bProcess (\d+) has ([\d.]+ [GM]iB) memory in use/;

/**
 * The fix for a CUDA OOM, worked out from the spec's `mem-fraction-static` (the guide's 0.88 → 0.85 when the spec
 * leaves it to SGLang), unless PyTorch's line shows another process holding the memory: then lowering the fraction
 * would not make room.
 */
export function memFractionFix(context: FixContext): string {
  const other = context.evidence.map((line) => OTHER_PROCESS.exec(line)).find((match) => match !== null);
  if (other) return `free the GPU: process ${other[1]} holds ${other[2]} of its memory (another server on it?)`;
  const set = Number(context.launchArgs?.['mem-fraction-static']);
  if (Number.isFinite(set) && set > GUIDE_STEP) {
    return `lower --mem-fraction-static ${set} → ${(set - GUIDE_STEP).toFixed(2)} (sglang.args in the spec)`;
  }
  return 'set --mem-fraction-static 0.85 in sglang.args (the guide lowers 0.88 → 0.85)';
}
