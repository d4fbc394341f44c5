import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import * as z from 'zod';
import { ProbeProtocolError } from './probe-errors';
import { ensureOk, probeFetch, readBodyText, redactSecret, toTransportError, type ProbeTarget } from './probe-target';

const PATH = '/v1/chat/completions';

/** An OpenAI chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
}

/** An OpenAI function tool. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** The request body of `/v1/chat/completions` (OpenAI fields plus SGLang's extras such as `chat_template_kwargs`). */
export interface ChatCompletionBody {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  tools?: ChatTool[];
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
  /** Template switches, e.g. `{ enable_thinking: false }` for GLM. */
  chat_template_kwargs?: Record<string, unknown>;
  separate_reasoning?: boolean;
  /** Keep generating past EOS up to `max_tokens` (benchmarks). */
  ignore_eos?: boolean;
}

/** One tool call as the tool-call parser reported it; `arguments` is the raw JSON string. */
export interface ChatToolCall {
  id?: string;
  name: string;
  arguments: string;
}

/** Token usage as the server reported it. */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** The parsed reply of a chat completion, streamed or not. */
export interface ChatReply {
  status: number;
  model?: string;
  content: string | null;
  /** Set by SGLang's reasoning parser (`--reasoning-parser glm45`) when thinking is on. */
  reasoningContent: string | null;
  toolCalls: ChatToolCall[];
  finishReason: string | null;
  usage?: ChatUsage;
  /** Send → last byte. Streaming TTFT/TPOT are stream-timing.ts's job (bench_serving definitions). */
  durationMs: number;
}

const UsageShape = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number().optional(),
});

const ToolCallShape = z.looseObject({
  id: z.string().nullish(),
  index: z.number().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }),
});

const CompletionShape = z.looseObject({
  model: z.string().optional(),
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({
          content: z.string().nullish(),
          reasoning_content: z.string().nullish(),
          tool_calls: z.array(ToolCallShape).nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: UsageShape.nullish(),
});

const ChunkShape = z.looseObject({
  model: z.string().optional(),
  choices: z
    .array(
      z.looseObject({
        delta: z
          .looseObject({
            content: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            tool_calls: z.array(ToolCallShape).nullish(),
          })
          .optional(),
        finish_reason: z.string().nullish(),
      }),
    )
    .optional(),
  usage: UsageShape.nullish(),
});

/** Sends a non-streaming chat completion and parses the reply; non-2xx answers throw `ProbeHttpError`. */
export async function createChatCompletion(target: ProbeTarget, body: ChatCompletionBody): Promise<ChatReply> {
  const startMs = performance.now();
  const response = await probeFetch(target, PATH, { method: 'POST', json: { ...body, stream: false } });
  await ensureOk(response, target, 'POST', PATH);
  const text = await readBodyText(response, target, 'POST', PATH);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProbeProtocolError('POST', PATH, `reply is not JSON: ${redactSecret(text.slice(0, 120), target.apiKey)}`);
  }
  const parsed = CompletionShape.safeParse(json);
  if (!parsed.success) {
    throw new ProbeProtocolError('POST', PATH, `reply is not a chat completion: ${z.prettifyError(parsed.error)}`);
  }
  const choice = parsed.data.choices[0]!;
  return {
    status: response.status,
    model: parsed.data.model,
    content: choice.message.content ?? null,
    reasoningContent: choice.message.reasoning_content ?? null,
    toolCalls: (choice.message.tool_calls ?? []).map((call) => ({
      id: call.id ?? undefined,
      name: call.function.name ?? '',
      arguments: call.function.arguments ?? '',
    })),
    finishReason: choice.finish_reason ?? null,
    usage: toUsage(parsed.data.usage),
    durationMs: performance.now() - startMs,
  };
}

/** Options of a streaming completion. */
export interface StreamChatOptions {
  /** Called for every parsed chunk that carries a delta (for live display). */
  onDelta?: (delta: { content?: string; reasoningContent?: string }) => void;
}

/** A streamed reply, assembled from its chunks. */
export interface StreamedChatReply extends ChatReply {
  /** SSE events received before `data: [DONE]`. */
  chunkCount: number;
}

/**
 * Sends a streaming chat completion (SSE) and assembles content, reasoning and tool-call deltas into one reply.
 * A stream that ends without `data: [DONE]` throws `ProbeProtocolError`.
 */
export async function streamChatCompletion(
  target: ProbeTarget,
  body: ChatCompletionBody,
  options: StreamChatOptions = {},
): Promise<StreamedChatReply> {
  const startMs = performance.now();
  const response = await probeFetch(target, PATH, {
    method: 'POST',
    json: { ...body, stream: true, stream_options: { include_usage: true } },
    accept: 'text/event-stream',
  });
  await ensureOk(response, target, 'POST', PATH);
  if (!response.body) throw new ProbeProtocolError('POST', PATH, 'streaming reply has no body');
  const reply: StreamedChatReply = {
    status: response.status,
    content: null,
    reasoningContent: null,
    toolCalls: [],
    finishReason: null,
    durationMs: 0,
    chunkCount: 0,
  };
  const callsByIndex = new Map<number, ChatToolCall>();
  let isDone = false;
  let badChunk: string | undefined;
  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      if (isDone || badChunk) return;
      if (event.data.trim() === '[DONE]') {
        isDone = true;
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        badChunk = `chunk is not JSON: ${event.data.slice(0, 80)}`;
        return;
      }
      const chunk = ChunkShape.safeParse(json);
      if (!chunk.success) {
        badChunk = `chunk is not a chat.completion.chunk: ${z.prettifyError(chunk.error)}`;
        return;
      }
      reply.chunkCount += 1;
      reply.model ??= chunk.data.model;
      if (chunk.data.usage) reply.usage = toUsage(chunk.data.usage);
      for (const choice of chunk.data.choices ?? []) {
        if (choice.finish_reason) reply.finishReason = choice.finish_reason;
        const delta = choice.delta;
        if (!delta) continue;
        if (delta.content) reply.content = (reply.content ?? '') + delta.content;
        if (delta.reasoning_content) reply.reasoningContent = (reply.reasoningContent ?? '') + delta.reasoning_content;
        for (const [position, call] of (delta.tool_calls ?? []).entries()) {
          const index = call.index ?? position;
          const entry = callsByIndex.get(index) ?? { name: '', arguments: '' };
          if (call.id) entry.id = call.id;
          if (call.function.name) entry.name += call.function.name;
          entry.arguments += call.function.arguments ?? '';
          callsByIndex.set(index, entry);
        }
        if (delta.content || delta.reasoning_content) {
          options.onDelta?.({
            content: delta.content ?? undefined,
            reasoningContent: delta.reasoning_content ?? undefined,
          });
        }
      }
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const part of response.body) {
      parser.feed(decoder.decode(part as Uint8Array, { stream: true }));
      if (isDone || badChunk) break;
    }
  } catch (err) {
    throw toTransportError(err, target, 'POST', PATH);
  }
  if (badChunk) throw new ProbeProtocolError('POST', PATH, redactSecret(badChunk, target.apiKey));
  if (!isDone) throw new ProbeProtocolError('POST', PATH, 'stream ended without data: [DONE]');
  reply.toolCalls = [...callsByIndex.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  reply.durationMs = performance.now() - startMs;
  return reply;
}

function toUsage(usage: z.infer<typeof UsageShape> | null | undefined): ChatUsage | undefined {
  if (!usage) return undefined;
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}
