import { WARMUP_REQUESTS } from '../spec/warmup-requests';
import { estimateTokens, type BenchPrompt } from './bench-prompt';

/**
 * The warmup's four diverse completions (plain chat, thinking off, long context, a tool call), repeated to `count`:
 * a load with the shapes a deployment is warmed for rather than one length.
 */
export function warmupPrompts(count: number): BenchPrompt[] {
  return Array.from({ length: count }, (_, i) => {
    const { messages, max_tokens: outputLen, ...extraBody } = WARMUP_REQUESTS[i % WARMUP_REQUESTS.length]!.body;
    return {
      messages: messages.map((m) => ({ ...m })),
      outputLen,
      promptTokens: estimateTokens(messages.map((m) => m.content).join('')),
      extraBody: { ...extraBody },
    };
  });
}
