import type { ModelToken } from './completion-plan';

/** Why a generation ended, as SGLang's `meta_info.finish_reason` says it. */
export type FinishReason = { type: 'stop'; matched: number | string } | { type: 'length'; length: number };

/** The limits SGLang applies to a generation. */
export interface OutputLimits {
  /** `max_new_tokens` after the scheduler's clamp; null = until EOS. */
  maxNewTokens: number | null;
  stop: string[];
  /** The EOS token id `matched` reports. */
  eosTokenId: number;
}

/**
 * Cuts the model's raw output where SGLang's scheduler would end it: the EOS token (kept, it counts as a completion
 * token), a stop string (the output is trimmed before it; the token holding it still counts), or max_new_tokens.
 * Tokens are copied, so the plan itself is left as the model wrote it.
 */
export function applyOutputLimits(
  tokens: readonly ModelToken[],
  limits: OutputLimits,
): { tokens: ModelToken[]; finish: FinishReason } {
  const out: ModelToken[] = [];
  let text = '';
  for (const token of tokens) {
    if (limits.maxNewTokens !== null && out.length >= limits.maxNewTokens) break;
    if (token.kind === 'eos') {
      out.push({ ...token });
      return { tokens: out, finish: { type: 'stop', matched: limits.eosTokenId } };
    }
    const before = text.length;
    text += token.text;
    const hit = firstStop(text, limits.stop);
    if (hit) {
      out.push({ ...token, text: token.text.slice(0, Math.max(0, hit.at - before)) });
      return { tokens: out, finish: { type: 'stop', matched: hit.stop } };
    }
    out.push({ ...token });
  }
  return { tokens: out, finish: { type: 'length', length: out.length } };
}

function firstStop(text: string, stops: string[]): { stop: string; at: number } | undefined {
  let best: { stop: string; at: number } | undefined;
  for (const stop of stops) {
    if (stop === '') continue;
    const at = text.indexOf(stop);
    if (at >= 0 && (!best || at < best.at)) best = { stop, at };
  }
  return best;
}

/** How many tokens a request may generate, as SGLang's scheduler clamps `max_new_tokens`. */
export function clampMaxNewTokens(
  requested: number | null,
  promptTokens: number,
  limits: { contextLength: number; maxTotalTokens: number },
): number {
  // scheduler.py: min(max_new_tokens, max_req_len - input - 1, max_total_tokens - input - page - 1).
  const maxReqLen = Math.min(limits.contextLength - 1, limits.maxTotalTokens - 1);
  const ceiling = Math.max(0, Math.min(maxReqLen - promptTokens - 1, limits.maxTotalTokens - promptTokens - 2));
  return requested === null ? ceiling : Math.max(0, Math.min(requested, ceiling));
}
