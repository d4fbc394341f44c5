import type { WireProfile } from './wire-profile';

/** What every chunk of one stream shares. */
export interface ChunkHead {
  id: string;
  created: number;
  /** The model name the request gave (SGLang echoes it; "default" when absent). */
  model: string;
}

/** OpenAI's logprobs block of one choice or chunk. */
export interface ChoiceLogprobs {
  content: Array<{
    token: string;
    bytes: number[];
    logprob: number;
    top_logprobs: Array<{ token: string; bytes: number[]; logprob: number }>;
  }>;
}

/** One tool-call delta as SGLang streams it: the name once with `arguments: ""`, then argument pieces. */
export interface ToolCallDelta {
  id: string | null;
  index: number;
  name: string | null;
  arguments: string;
}

/**
 * A chunk from SGLang's fast path (`build_sse_content`, msgspec with omitted defaults): the delta always carries
 * `reasoning_content` (null when absent — the OpenAI client reads it as an attribute), then `role` and `content`
 * only when set; the chunk has no `usage` key unless there is usage.
 */
export function fastChunk(
  head: ChunkHead,
  index: number,
  fields: {
    role?: string;
    content?: string;
    reasoning?: string | null;
    finishReason?: string | null;
    matchedStop?: number | string | null;
    logprobs?: ChoiceLogprobs | null;
  },
): Record<string, unknown> {
  const delta: Record<string, unknown> = { reasoning_content: fields.reasoning ?? null };
  if (fields.role !== undefined) delta.role = fields.role;
  if (fields.content !== undefined) delta.content = fields.content;
  return chunkOf(head, [
    {
      index,
      delta,
      logprobs: fields.logprobs ?? null,
      finish_reason: fields.finishReason ?? null,
      matched_stop: fields.matchedStop ?? null,
    },
  ]);
}

/**
 * A chunk from SGLang's tool-call path (pydantic `ChatCompletionStreamResponse.model_dump_json`): every delta key is
 * present, and the chunk carries `usage: null`. Content of a request with tools streams this way too.
 */
export function toolPathChunk(
  head: ChunkHead,
  index: number,
  fields: { content?: string; toolCall?: ToolCallDelta; logprobs?: ChoiceLogprobs | null },
): Record<string, unknown> {
  const call = fields.toolCall;
  const toolCalls = call
    ? [{ id: call.id, index: call.index, type: 'function', function: { name: call.name, arguments: call.arguments } }]
    : null;
  return {
    ...chunkOf(head, [
      {
        index,
        delta: { role: null, content: fields.content ?? null, reasoning_content: null, tool_calls: toolCalls },
        logprobs: fields.logprobs ?? null,
        finish_reason: null,
        matched_stop: null,
      },
    ]),
    usage: null,
  };
}

/** The usage chunk `stream_options.include_usage` asks for: no choices. */
export function usageChunk(head: ChunkHead, usage: Record<string, unknown>): Record<string, unknown> {
  return { ...chunkOf(head, []), usage };
}

/** The envelope every chunk shares, keys in SGLang's order (the recorded streams are compared byte for byte). */
function chunkOf(head: ChunkHead, choices: Record<string, unknown>[]): Record<string, unknown> {
  return { id: head.id, object: 'chat.completion.chunk', created: head.created, model: head.model, choices };
}

/** Token counts of a reply (summed over choices; the prompt once). */
export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
}

/** `usage` as the release writes it: 0.5.17 has top-level `reasoning_tokens`; 0.5.2x adds the OpenAI location. */
export function chatUsage(counts: UsageCounts, profile: WireProfile): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    prompt_tokens: counts.promptTokens,
    total_tokens: counts.promptTokens + counts.completionTokens,
    completion_tokens: counts.completionTokens,
    prompt_tokens_details: null,
    reasoning_tokens: counts.reasoningTokens,
  };
  if (profile.hasCompletionTokensDetails) {
    usage.completion_tokens_details = counts.reasoningTokens > 0 ? { reasoning_tokens: counts.reasoningTokens } : null;
  }
  return usage;
}

/** One SSE event line pair. */
export function sseEvent(body: unknown): string {
  return `data: ${JSON.stringify(body)}\n\n`;
}
