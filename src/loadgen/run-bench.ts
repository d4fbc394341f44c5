import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { BenchServingSummary } from '../shared/bench-summary';
import { calculateMetrics } from './bench-metrics';
import { BenchOptionsError, resolveTarget } from './bench-target';
import type { BenchPrompt } from './bench-prompt';
import { filePrompts } from './file-prompts';
import { randomPrompts } from './random-prompts';
import type { RequestRecord } from './request-record';
import { SeededRandom } from '../random/seeded-random';
import { readAcceptLength } from './server-info';
import { streamChat } from './stream-chat';
import { warmupPrompts } from './warmup-prompts';
import { VERSION_HEADER } from '../shared/version-header';

/** What to load a server with, and how (the contract the bench command and the rollout's performance phase share). */
export interface BenchOptions {
  /** The OpenAI-compatible base (…/v1 is appended if missing). */
  baseUrl: string;
  /** Resolved by the caller; never logged. */
  apiKey?: string;
  model: string;
  dataset:
    | { name: 'random'; inputLen: number; outputLen: number; rangeRatio: number }
    /** `outputLen` fixes every output length (bench_serving's `--sharegpt-output-len`). */
    | { name: 'sharegpt' | 'jsonl'; path: string; outputLen?: number }
    | { name: 'warmup' };
  numPrompts: number;
  /** Fixed concurrency, or */
  maxConcurrency?: number;
  /** Poisson arrivals per second (Infinity = all at once). */
  requestRate?: number;
  /** Sent first, discarded. @default 1 (bench_serving's) */
  warmupRequests?: number;
  /** Sent as `ignore_eos`, so every request generates its full output length. @default true */
  ignoreEos?: boolean;
  /** Seeds the prompts, their lengths and the arrival times. @default 42 (bench_serving's) */
  seed?: number;
  /**
   * Places every request on this app version (the local router's version header): the performance gate measures
   * the candidate, never the version still serving beside it. Modal's endpoints ignore it.
   */
  version?: number;
  signal?: AbortSignal;
  onProgress?: (p: { completed: number; failed: number; total: number }) => void;
}

/** The summary and the per-request records behind it (the CLI's report and the accuracy bench read the records). */
export interface BenchRun {
  summary: BenchServingSummary;
  records: RequestRecord[];
}

/** Runs one load test and returns its figures under bench_serving's names. */
export async function runBench(options: BenchOptions): Promise<BenchServingSummary> {
  return (await runBenchDetailed(options)).summary;
}

/** `runBench`, keeping each request's record. */
export async function runBenchDetailed(options: BenchOptions): Promise<BenchRun> {
  checkOptions(options);
  const target = resolveTarget(options.baseUrl);
  const random = new SeededRandom(options.seed ?? 42);
  const prompts = promptsOf(options, random);
  const concurrency = Math.min(options.maxConcurrency ?? options.numPrompts, options.numPrompts);
  const pool = new Pool(target.origin, {
    connections: Math.max(concurrency, options.warmupRequests ?? 1),
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.version !== undefined) headers[VERSION_HEADER] = String(options.version);
  const send = (prompt: BenchPrompt, outputLen = prompt.outputLen): Promise<RequestRecord> =>
    streamChat({
      pool,
      path: target.chatPath,
      headers,
      body: requestBody(options, prompt, outputLen),
      promptTokens: prompt.promptTokens,
      signal: options.signal,
    });
  try {
    await warmUp(options.warmupRequests ?? 1, prompts[0]!, send);
    const { records, durationS } = await sendAll(options, prompts, concurrency, random, send);
    const acceptLength = await readAcceptLength(pool, target.rootPath, headers);
    return { summary: summaryOf(options, calculateMetrics(records, durationS), acceptLength), records };
  } finally {
    await pool.close();
  }
}

function checkOptions(options: BenchOptions): void {
  const positiveInteger = (value: number | undefined, name: string): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new BenchOptionsError(`${name} ${value} must be an integer >= 1`);
    }
  };
  positiveInteger(options.numPrompts, 'numPrompts');
  positiveInteger(options.maxConcurrency, 'maxConcurrency');
  positiveInteger(options.version, 'version');
  if (
    options.warmupRequests !== undefined &&
    !(Number.isInteger(options.warmupRequests) && options.warmupRequests >= 0)
  ) {
    throw new BenchOptionsError(`warmupRequests ${options.warmupRequests} must be an integer >= 0`);
  }
  if (options.requestRate !== undefined && !(options.requestRate > 0)) {
    throw new BenchOptionsError(`requestRate ${options.requestRate} must be > 0 (Infinity sends all at once)`);
  }
  if (options.dataset.name === 'random') {
    positiveInteger(options.dataset.inputLen, 'dataset.inputLen');
    positiveInteger(options.dataset.outputLen, 'dataset.outputLen');
    const ratio = options.dataset.rangeRatio;
    if (!(ratio >= 0 && ratio <= 1)) throw new BenchOptionsError(`dataset.rangeRatio ${ratio} must be in [0, 1]`);
  }
  if (options.model.trim() === '') throw new BenchOptionsError('model must name the served model');
}

function promptsOf(options: BenchOptions, random: SeededRandom): BenchPrompt[] {
  const { dataset, numPrompts } = options;
  if (dataset.name === 'random') return randomPrompts(numPrompts, dataset, random);
  if (dataset.name === 'warmup') return warmupPrompts(numPrompts);
  return filePrompts(dataset.name, dataset.path, numPrompts, random, dataset.outputLen);
}

function requestBody(options: BenchOptions, prompt: BenchPrompt, outputLen: number): string {
  // bench_serving's sglang-oai-chat body: greedy, max_completion_tokens, ignore_eos unless disabled.
  return JSON.stringify({
    model: options.model,
    messages: prompt.messages,
    max_completion_tokens: outputLen,
    temperature: 0,
    ignore_eos: options.ignoreEos ?? true,
    ...prompt.extraBody,
    stream: true,
    stream_options: { include_usage: true },
  });
}

/** bench_serving's warm-up: the first prompt, at most 32 tokens, all at once; the run stops if none succeeds. */
async function warmUp(
  count: number,
  prompt: BenchPrompt,
  send: (prompt: BenchPrompt, outputLen?: number) => Promise<RequestRecord>,
): Promise<void> {
  if (count === 0) return;
  const outputs = await Promise.all(Array.from({ length: count }, () => send(prompt, Math.min(prompt.outputLen, 32))));
  if (!outputs.some((o) => o.success)) {
    throw new BenchOptionsError(`every warm-up request failed: ${outputs[0]?.error ?? 'no answer'}`);
  }
}

/**
 * Sends every prompt: arrivals at `requestRate` (exponential gaps, seeded; all at once when unset or Infinity),
 * at most `concurrency` in flight. The duration runs from the first send to the last request's end.
 */
async function sendAll(
  options: BenchOptions,
  prompts: BenchPrompt[],
  concurrency: number,
  random: SeededRandom,
  send: (prompt: BenchPrompt) => Promise<RequestRecord>,
): Promise<{ records: RequestRecord[]; durationS: number }> {
  const total = prompts.length;
  const records: RequestRecord[] = new Array(total);
  const rate = options.requestRate ?? Infinity;
  let completed = 0;
  let failed = 0;
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const started = performance.now();
  const tasks: Array<Promise<void>> = [];
  let arrivalMs = started;
  for (let i = 0; i < total; i++) {
    if (options.signal?.aborted) break;
    if (i > 0 && Number.isFinite(rate)) {
      arrivalMs += random.exponential(1 / rate) * 1000;
      const delay = arrivalMs - performance.now();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    if (inFlight >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight++;
    tasks.push(
      send(prompts[i]!).then((record) => {
        records[i] = record;
        if (record.success) completed++;
        else failed++;
        inFlight--;
        waiting.shift()?.();
        options.onProgress?.({ completed, failed, total });
      }),
    );
  }
  await Promise.all(tasks);
  const durationS = (performance.now() - started) / 1000;
  if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
  return { records, durationS };
}

function summaryOf(
  options: BenchOptions,
  metrics: ReturnType<typeof calculateMetrics>,
  acceptLength: number | null,
): BenchServingSummary {
  const rate = options.requestRate ?? Infinity;
  const { dataset } = options;
  return {
    backend: 'sglang-oai-chat',
    dataset_name: dataset.name,
    request_rate: Number.isFinite(rate) ? rate : 'inf',
    max_concurrency: options.maxConcurrency ?? null,
    ...(dataset.name === 'random'
      ? {
          random_input_len: dataset.inputLen,
          random_output_len: dataset.outputLen,
          random_range_ratio: dataset.rangeRatio,
        }
      : {}),
    ...metrics,
    accept_length: acceptLength,
  };
}
