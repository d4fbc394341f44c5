import * as http from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

// node:http with keep-alive rather than fetch: fetch's per-call overhead (~1 ms) would land inside TTFT under load.
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, noDelay: true } as http.AgentOptions);
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity, noDelay: true } as https.AgentOptions);

/** One streaming chat request to measure. */
export interface StreamTimingRequest {
  /** Base URL of the serving endpoint, e.g. `http://127.0.0.1:30000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never echoed in results or errors. */
  apiKey?: string;
  /** The chat body; `stream: true` and `stream_options.include_usage: true` are added. */
  body: Record<string, unknown>;
  /** Abort the request after this long. @default 600000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Per-request timings as SGLang's bench_serving defines them. */
export interface StreamTimingResult {
  isOk: boolean;
  status: number;
  /** Send → first chunk carrying non-empty content, reasoning_content or tool-call text. */
  ttftMs: number;
  /** Send → last chunk. */
  latencyMs: number;
  /** (latency − ttft) / (outputTokens − 1); undefined when outputTokens ≤ 1. */
  tpotMs?: number;
  /** Gaps between later non-empty chunks. */
  itlMs: number[];
  /** Server-reported `usage.completion_tokens`, else the count of non-empty chunks. */
  outputTokens: number;
  promptTokens?: number;
  content: string;
  reasoningContent: string;
  finishReason?: string;
  /** Extra fields of the final chunk a server may add (e.g. the emulator's `emulator_timing`). */
  finalChunkExtras: Record<string, unknown>;
  /** Wall-clock time (epoch ms, sub-ms precision) the request was handed to the socket; comparable across processes. */
  sentAtEpochMs?: number;
  /** Wall-clock time the first output chunk was parsed. */
  firstOutputAtEpochMs?: number;
  error?: string;
}

interface ChunkShape {
  choices?: Array<{
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: Array<{ function?: { arguments?: string; name?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { completion_tokens?: number; prompt_tokens?: number } | null;
  [key: string]: unknown;
}

/** Sends one streaming chat completion and measures TTFT, TPOT and ITL from the client side. */
export async function measureStreamingChat(request: StreamTimingRequest): Promise<StreamTimingResult> {
  const result: StreamTimingResult = {
    isOk: false,
    status: 0,
    ttftMs: 0,
    latencyMs: 0,
    itlMs: [],
    outputTokens: 0,
    content: '',
    reasoningContent: '',
    finalChunkExtras: {},
  };
  const timeout = AbortSignal.timeout(request.timeoutMs ?? 600_000);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;
  const body = JSON.stringify({
    ...request.body,
    stream: true,
    stream_options: { ...((request.body.stream_options as object | undefined) ?? {}), include_usage: true },
  });
  // Reset when the request is handed to the socket, so a burst's client-side queueing is not counted as TTFT.
  let startMs = performance.now();
  let firstMs: number | undefined;
  let lastMs = startMs;
  let chunkCount = 0;
  let usageTokens: number | undefined;
  try {
    const response = await post(
      `${request.baseUrl.replace(/\/$/, '')}/v1/chat/completions`,
      headers,
      body,
      signal,
      (sentMs) => {
        startMs = sentMs;
        lastMs = sentMs;
      },
    );
    result.status = response.statusCode ?? 0;
    if (result.status !== 200) {
      result.error = `HTTP ${result.status}: ${(await readAll(response)).slice(0, 300)}`;
      return result;
    }
    let isDone = false;
    const parser = createParser({
      onEvent(event: EventSourceMessage) {
        if (event.data === '[DONE]') {
          isDone = true;
          return;
        }
        const now = performance.now();
        const parsed = JSON.parse(event.data) as ChunkShape;
        if (parsed.usage?.completion_tokens !== undefined) {
          usageTokens = parsed.usage.completion_tokens;
          result.promptTokens = parsed.usage.prompt_tokens;
        }
        const choice = parsed.choices?.[0];
        if (!choice) return;
        if (choice.finish_reason) {
          result.finishReason = choice.finish_reason;
          const { id: _id, object: _o, created: _c, model: _m, choices: _ch, usage: _u, ...extras } = parsed;
          result.finalChunkExtras = extras;
        }
        const delta = choice.delta ?? {};
        const toolText = (delta.tool_calls ?? [])
          .map((c) => (c.function?.name ?? '') + (c.function?.arguments ?? ''))
          .join('');
        const text = (delta.content ?? '') + (delta.reasoning_content ?? '') + toolText;
        result.content += delta.content ?? '';
        result.reasoningContent += delta.reasoning_content ?? '';
        if (text === '') return;
        chunkCount++;
        if (firstMs === undefined) firstMs = now;
        else result.itlMs.push(now - lastMs);
        lastMs = now;
      },
    });
    response.setEncoding('utf8');
    for await (const part of response) {
      parser.feed(part as string);
      if (isDone) break;
    }
    if (!isDone) {
      result.error = 'stream ended without data: [DONE]';
      return finish();
    }
    result.isOk = firstMs !== undefined;
    if (!result.isOk) result.error = 'stream carried no output';
    return finish();
  } catch (err) {
    result.error =
      (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
        ? 'timed out or aborted'
        : (err as Error).message;
    return finish();
  }

  function finish(): StreamTimingResult {
    result.sentAtEpochMs = performance.timeOrigin + startMs;
    if (firstMs !== undefined) result.firstOutputAtEpochMs = performance.timeOrigin + firstMs;
    result.ttftMs = firstMs === undefined ? 0 : firstMs - startMs;
    result.latencyMs = lastMs - startMs;
    result.outputTokens = usageTokens ?? chunkCount;
    if (result.outputTokens > 1 && firstMs !== undefined)
      result.tpotMs = (result.latencyMs - result.ttftMs) / (result.outputTokens - 1);
    return result;
  }
}

function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  onSent: (sentMs: number) => void,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    const req = transport.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        agent: target.protocol === 'https:' ? httpsAgent : httpAgent,
        signal,
      },
      resolve,
    );
    req.on('error', reject);
    req.once('finish', () => onSent(performance.now()));
    req.end(body);
  });
}

async function readAll(response: http.IncomingMessage): Promise<string> {
  let text = '';
  response.setEncoding('utf8');
  for await (const part of response) text += part as string;
  return text;
}
