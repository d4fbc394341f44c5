import { performance } from 'node:perf_hooks';
import { createChatCompletion, type ChatCompletionBody, type ChatTool } from './chat-client';
import { ProbeHttpError, ProbeProtocolError, ProbeTransportError } from './probe-errors';
import type { ProbeTarget } from './probe-target';

/** The names of the guide's four warmup completions (§6/§7: chat, no-thinking, long context, tools). */
export type WarmupName = 'plain-chat' | 'thinking-off' | 'long-context' | 'tool-call';

/** One warmup completion: a name and the body it sends (the model name is filled in at run time). */
export interface WarmupRequest {
  name: WarmupName;
  /** What CUDA-graph path it exercises, for logs and the UI. */
  purpose: string;
  body: Omit<ChatCompletionBody, 'model'>;
}

const WEATHER_TOOL: ChatTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' } },
      required: ['city'],
    },
  },
};

/** About 6k prompt tokens: past the 4k boundary where a long-context prefill needs its own CUDA graph. */
const LONG_DOCUMENT = Array.from(
  { length: 240 },
  (_, i) => `Section ${i + 1}: the deployment keeps weights on a volume, compiles kernels once, and serves traffic.`,
).join('\n');

/** The guide's four diverse warmup completions, each capturing a different CUDA graph on first use. */
export const WARMUP_REQUESTS: readonly WarmupRequest[] = [
  {
    name: 'plain-chat',
    purpose: 'plain chat with thinking on (the template default)',
    body: { messages: [{ role: 'user', content: 'Hello! In two sentences, what does a GPU do?' }], max_tokens: 64 },
  },
  {
    name: 'thinking-off',
    purpose: 'thinking disabled via chat_template_kwargs.enable_thinking=false',
    body: {
      messages: [{ role: 'user', content: 'Reply with a one-line greeting.' }],
      max_tokens: 32,
      chat_template_kwargs: { enable_thinking: false },
    },
  },
  {
    name: 'long-context',
    purpose: 'long-context prefill (~6k prompt tokens)',
    body: {
      messages: [
        { role: 'system', content: 'You summarise documents.' },
        { role: 'user', content: `${LONG_DOCUMENT}\n\nSummarise the document above in one sentence.` },
      ],
      max_tokens: 32,
    },
  },
  {
    name: 'tool-call',
    purpose: 'tool-call path (tools array, tool parser)',
    body: {
      messages: [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }],
      tools: [WEATHER_TOOL],
      max_tokens: 128,
    },
  },
];

/** Options of a warmup run. */
export interface RunWarmupOptions extends ProbeTarget {
  /** The served model name (`--served-model-name`). */
  servedName: string;
  /** How many requests run at once; cap it at the engine's `--max-running-requests`. @default 4 */
  concurrency?: number;
  /** Which requests to send. @default WARMUP_REQUESTS */
  requests?: readonly WarmupRequest[];
}

/** The result of one warmup completion; `detail` never contains the API key. */
export interface WarmupResult {
  name: WarmupName;
  ok: boolean;
  status?: number;
  durationMs: number;
  detail: string;
  /** Set when `ok` is false: an HTTP error, no answer in time, nothing listening, a broken body. */
  failureKind?: 'http' | 'timeout' | 'refused' | 'error' | 'protocol';
}

/**
 * Sends the warmup completions, up to `concurrency` at a time, each with `timeoutMs` (warmup.timeout). Never
 * throws for a failed request (each result says what happened); only the caller's cancellation propagates.
 */
export async function runWarmup(options: RunWarmupOptions): Promise<WarmupResult[]> {
  const requests = options.requests ?? WARMUP_REQUESTS;
  const concurrency = options.concurrency ?? requests.length;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency ${concurrency} must be an integer >= 1 (at most --max-running-requests)`);
  }
  const results: WarmupResult[] = new Array(requests.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < requests.length) {
      const index = next++;
      results[index] = await runOne(options, requests[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, lane));
  return results;
}

async function runOne(options: RunWarmupOptions, request: WarmupRequest): Promise<WarmupResult> {
  const startMs = performance.now();
  const duration = (): number => Math.round(performance.now() - startMs);
  try {
    const reply = await createChatCompletion(options, { ...request.body, model: options.servedName });
    const tokens = reply.usage?.completionTokens;
    return {
      name: request.name,
      ok: true,
      status: reply.status,
      durationMs: duration(),
      detail: `HTTP ${reply.status}, ${tokens ?? '?'} tokens, finish ${reply.finishReason ?? 'none'}`,
    };
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason ?? err;
    if (err instanceof ProbeHttpError) {
      return {
        name: request.name,
        ok: false,
        status: err.status,
        durationMs: duration(),
        detail: err.message,
        failureKind: 'http',
      };
    }
    if (err instanceof ProbeTransportError) {
      return { name: request.name, ok: false, durationMs: duration(), detail: err.message, failureKind: err.kind };
    }
    if (err instanceof ProbeProtocolError) {
      return { name: request.name, ok: false, durationMs: duration(), detail: err.message, failureKind: 'protocol' };
    }
    throw err;
  }
}
