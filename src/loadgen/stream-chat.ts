import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import type { RequestRecord } from './request-record';

/** One streaming chat completion to time. */
export interface StreamChatRequest {
  /** A keep-alive pool on the server's origin, sized to the run's concurrency. */
  pool: Dispatcher;
  /** The chat completions path on that origin, e.g. `/v1/chat/completions`. */
  path: string;
  headers: Record<string, string>;
  /** The request body; the caller has set `stream` and `stream_options.include_usage`. */
  body: string;
  /** The dataset's estimate, used when the server sends no `usage`. */
  promptTokens: number;
  signal?: AbortSignal;
}

interface Chunk {
  choices?: Array<{
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: Array<{ function?: { name?: string | null; arguments?: string | null } }> | null;
    } | null;
  }>;
  usage?: { completion_tokens?: number; prompt_tokens?: number } | null;
  emulator_timing?: unknown;
}

/**
 * Sends one streaming chat completion and times it as bench_serving's OpenAI chat client does: the clock starts as
 * the request is issued, TTFT at the first chunk with output text, each later output chunk adds a gap, latency
 * ends at the last event. Per chunk it parses one JSON object and keeps two numbers, so hundreds of streams fit on a
 * small machine. Never throws: a failure is a record with `success: false` and the reason.
 */
export async function streamChat(request: StreamChatRequest): Promise<RequestRecord> {
  const startMs = performance.now();
  let firstMs: number | undefined;
  let lastOutputMs = 0;
  let lastEventMs = startMs;
  const itl: number[] = [];
  const chunkChars: number[] = [];
  let usageOutput: number | undefined;
  let usagePrompt: number | undefined;
  let isDone = false;
  let serverTiming: unknown;
  const record = (success: boolean, error?: string): RequestRecord => {
    const outputTokens = usageOutput ?? chunkChars.length;
    return {
      success,
      ...(error === undefined ? {} : { error }),
      startTime: startMs / 1000,
      ttft: firstMs === undefined ? 0 : (firstMs - startMs) / 1000,
      latency: (lastEventMs - startMs) / 1000,
      itl,
      chunkTokens: tokensPerLaterChunk(chunkChars, outputTokens),
      outputTokens: success ? outputTokens : 0,
      promptTokens: usagePrompt ?? request.promptTokens,
      ...(serverTiming === undefined ? {} : { serverTiming }),
    };
  };
  try {
    const response = await request.pool.request({
      path: request.path,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      return record(false, `HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    }
    const parser = createParser({
      onEvent(event: EventSourceMessage) {
        const now = performance.now();
        lastEventMs = now;
        if (event.data === '[DONE]') {
          isDone = true;
          return;
        }
        const chunk = JSON.parse(event.data) as Chunk;
        if (chunk.usage?.completion_tokens !== undefined) {
          usageOutput = chunk.usage.completion_tokens;
          usagePrompt = chunk.usage.prompt_tokens ?? usagePrompt;
        }
        if (chunk.emulator_timing !== undefined) serverTiming = chunk.emulator_timing;
        const delta = chunk.choices?.[0]?.delta;
        if (!delta) return;
        let chars = (delta.content?.length ?? 0) + (delta.reasoning_content?.length ?? 0);
        for (const call of delta.tool_calls ?? []) {
          chars += (call.function?.name?.length ?? 0) + (call.function?.arguments?.length ?? 0);
        }
        if (chars === 0) return;
        if (firstMs === undefined) firstMs = now;
        else itl.push((now - lastOutputMs) / 1000);
        lastOutputMs = now;
        chunkChars.push(chars);
      },
    });
    const decoder = new TextDecoder();
    for await (const part of response.body) parser.feed(decoder.decode(part as Buffer, { stream: true }));
    if (!isDone) return record(false, 'the stream ended without data: [DONE]');
    if (firstMs === undefined) return record(false, 'the stream carried no output');
    return record(true);
  } catch (err) {
    if (request.signal?.aborted) return record(false, 'aborted');
    return record(false, err instanceof SyntaxError ? `a chunk is not JSON: ${err.message}` : (err as Error).message);
  }
}

/**
 * How many of the output tokens each chunk after the first carried, for spreading its gap. A server sends several
 * tokens a chunk under speculative decoding; without a tokenizer the usage count is shared out by the chunks'
 * text lengths (cumulative rounding keeps the sum), each chunk at least one token. When there are no more tokens
 * than chunks every chunk is one token, and the gaps are bench_serving's raw per-chunk ITL.
 */
export function tokensPerLaterChunk(chunkChars: readonly number[], outputTokens: number): number[] {
  const later = chunkChars.length - 1;
  if (later <= 0) return [];
  if (outputTokens <= chunkChars.length) return new Array<number>(later).fill(1);
  const totalChars = chunkChars.reduce((a, b) => a + b, 0);
  const tokens: number[] = [];
  let chars = chunkChars[0]!;
  let previous = Math.max(1, Math.round((outputTokens * chars) / totalChars));
  for (let k = 1; k < chunkChars.length; k++) {
    chars += chunkChars[k]!;
    const upTo = Math.round((outputTokens * chars) / totalChars);
    tokens.push(Math.max(1, upTo - previous));
    previous = Math.max(previous + 1, upTo);
  }
  return tokens;
}
