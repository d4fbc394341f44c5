import { performance } from 'node:perf_hooks';
import { WARMUP_REQUESTS, type WarmupName, type WarmupRequest } from '../spec/warmup-requests';
import { createChatCompletion } from './chat-client';
import { ProbeHttpError, ProbeProtocolError, ProbeTransportError } from './probe-errors';
import type { ProbeTarget } from './probe-target';

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
