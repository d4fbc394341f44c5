import { findingOf, type Finding, type LintRule } from '../finding';
import { lookupGpu } from '../gpu-catalog';
import { sparseAttentionBackend } from '../spec-args';

/** On Blackwell the NSA decode and prefill backends must be TRT-LLM's. */
export const nsaBackendOnBlackwell: LintRule = {
  id: 'nsa-backend-on-blackwell',
  summary: 'NSA decode/prefill backend other than trtllm on Blackwell',
  reason:
    'SGLang #21291: flashmla_kv decode accuracy on B200; mitigation is the TRT-LLM NSA backends (guide §11, §14, §18)',
  check(spec) {
    const gpu = lookupGpu(spec.gpu.type);
    if (!gpu?.isBlackwell) return [];
    const findings: Finding[] = [];
    for (const phase of ['decode', 'prefill'] as const) {
      // Either spelling: SGLang renamed --nsa-*-backend to --dsa-*-backend (0.5.17 deprecates, 0.5.23 drops nsa).
      const { flag, value: backend } = sparseAttentionBackend(spec, phase);
      if (backend === 'trtllm') continue;
      findings.push(
        findingOf(this, {
          level: 'warning',
          path: `sglang.args.${flag}`,
          message:
            backend === undefined
              ? `${flag} is not set on ${gpu.type}, so SGLang picks its default NSA backend`
              : `${flag} is ${backend} on ${gpu.type}`,
          fix: `set ${flag}: trtllm`,
        }),
      );
    }
    return findings;
  },
};
