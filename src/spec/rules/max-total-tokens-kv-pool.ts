import { findingOf, type LintRule } from '../finding';
import { numberArg } from '../spec-args';

/** Below this many KV tokens per running slot, long requests queue or get retracted. */
export const MIN_KV_TOKENS_PER_SLOT = 1024;

/**
 * The guide calls --max-total-tokens a per-request budget; in SGLang it sizes the whole KV pool shared by every
 * running request. Flag values that only make sense under the per-request reading.
 */
export const maxTotalTokensKvPool: LintRule = {
  id: 'max-total-tokens-kv-pool',
  summary: 'max-total-tokens read as a per-request budget (in SGLang it sizes the shared KV pool)',
  reason:
    'guide §1 calls it a "per-request token budget"; SGLang server args: max_total_tokens is the KV memory pool size in tokens',
  check(spec) {
    const total = numberArg(spec, 'max-total-tokens');
    if (total === undefined) return [];
    const note = 'max-total-tokens sizes the KV pool shared by all running requests, not one request';
    const prefill = numberArg(spec, 'max-prefill-tokens');
    const context = numberArg(spec, 'context-length');
    const running = numberArg(spec, 'max-running-requests');
    let problem: string | undefined;
    if (context !== undefined && total < context)
      problem = `max-total-tokens ${total} is below context-length ${context}: one full-length request cannot fit`;
    else if (prefill !== undefined && total < prefill)
      problem = `max-total-tokens ${total} is below max-prefill-tokens ${prefill}: a full prefill batch cannot fit`;
    else if (running !== undefined && total / running < MIN_KV_TOKENS_PER_SLOT) {
      problem = `max-total-tokens ${total} over max-running-requests ${running} is ${Math.floor(total / running)} tokens per slot (under ${MIN_KV_TOKENS_PER_SLOT})`;
    }
    if (!problem) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'sglang.args.max-total-tokens',
        message: `${problem}; ${note}`,
        fix: 'remove max-total-tokens to let mem-fraction-static size the pool, or raise it; limit one request with context-length',
      }),
    ];
  },
};
