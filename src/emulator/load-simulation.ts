import { planTiming, type RequestTiming, type TimingConstants } from './timing-model';

/**
 * A closed-loop load as `bench_serving --max-concurrency N` applies it: N users send at once, each sends its next
 * request the moment its previous one ends, until `numPrompts` have been sent.
 */
export interface LoadScenario {
  constants: TimingConstants;
  /** `--max-running-requests`: at most this many decode, the rest wait FIFO. */
  maxRunningRequests: number;
  isSpeculative: boolean;
  concurrency: number;
  numPrompts: number;
  promptTokens: number;
  /** Tokens every request generates (`ignore_eos`), at least 1. */
  outputTokens: number;
}

/** One request of a simulated load, in the guide's milliseconds from the load's start. */
export interface SimulatedRequest {
  index: number;
  arrivalMs: number;
  admittedMs: number;
  endMs: number;
  timing: RequestTiming;
}

/** bench_serving's view of a load: the figures the performance gate reads, in the guide's milliseconds. */
export interface LoadFigures {
  concurrency: number;
  completed: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  ttftP99Ms: number;
  tpotP50Ms: number;
  tpotP95Ms: number;
  /** Output tokens per second over the whole load (bench_serving's `output_throughput`). */
  outputTokPerS: number;
  /** One stream's decode speed at the median TPOT (1000 / TPOT p50). */
  perUserTokPerS: number;
  /** Decode tokens per second with every slot busy (peak running / TPOT p50): the guide's "all slots active". */
  aggregateDecodeTokPerS: number;
  durationMs: number;
  /** Requests that waited for a decode slot. */
  queuedRequests: number;
  /** Largest number of requests decoding at once. */
  peakRunning: number;
}

/**
 * Runs the emulator's timing model over a closed-loop load without a server: the same FIFO slot queue and the same
 * `planTiming` the request runner uses, on an event clock (guide time, time scale 1). The emulator over HTTP plays
 * this plan in wall-clock time; the benchmark prints both side by side.
 */
export function simulateLoad(scenario: LoadScenario): { requests: SimulatedRequest[]; figures: LoadFigures } {
  const { constants, maxRunningRequests, isSpeculative, promptTokens } = scenario;
  const outputTokens = Math.max(1, scenario.outputTokens);
  const requests: SimulatedRequest[] = [];
  const waiting: Array<{ index: number; arrivalMs: number }> = [];
  const decoding: SimulatedRequest[] = [];
  let sent = 0;
  let peakRunning = 0;

  const admit = (index: number, arrivalMs: number, nowMs: number): void => {
    const running = decoding.length + 1;
    peakRunning = Math.max(peakRunning, running);
    const timing = planTiming(constants, {
      promptTokens,
      queueMs: nowMs - arrivalMs,
      running,
      isSpeculative,
      timeScale: 1,
    });
    const request: SimulatedRequest = {
      index,
      arrivalMs,
      admittedMs: nowMs,
      endMs: arrivalMs + timing.ttftMs + (outputTokens - 1) * timing.tpotMs,
      timing,
    };
    decoding.push(request);
    requests.push(request);
  };
  const arrive = (nowMs: number): void => {
    if (sent >= scenario.numPrompts) return;
    const index = sent++;
    if (decoding.length < maxRunningRequests && waiting.length === 0) admit(index, nowMs, nowMs);
    else waiting.push({ index, arrivalMs: nowMs });
  };

  for (let user = 0; user < scenario.concurrency; user++) arrive(0);
  while (decoding.length > 0) {
    let next = 0;
    for (let i = 1; i < decoding.length; i++) {
      const candidate = decoding[i] as SimulatedRequest;
      const best = decoding[next] as SimulatedRequest;
      if (candidate.endMs < best.endMs || (candidate.endMs === best.endMs && candidate.index < best.index)) next = i;
    }
    const [done] = decoding.splice(next, 1) as [SimulatedRequest];
    // As in the emulator: the freed slot goes to the queue's head first, then the user's next request arrives.
    const head = waiting.shift();
    if (head) admit(head.index, head.arrivalMs, done.endMs);
    arrive(done.endMs);
  }
  requests.sort((a, b) => a.index - b.index);
  return { requests, figures: figuresOf(scenario.concurrency, requests, outputTokens, peakRunning) };
}

function figuresOf(
  concurrency: number,
  requests: SimulatedRequest[],
  outputTokens: number,
  peakRunning: number,
): LoadFigures {
  const ttfts = requests.map((r) => r.timing.ttftMs);
  const tpots = requests.map((r) => r.timing.tpotMs);
  const durationMs = Math.max(0, ...requests.map((r) => r.endMs));
  const tpotP50Ms = percentile(tpots, 50);
  return {
    concurrency,
    completed: requests.length,
    ttftP50Ms: percentile(ttfts, 50),
    ttftP95Ms: percentile(ttfts, 95),
    ttftP99Ms: percentile(ttfts, 99),
    tpotP50Ms,
    tpotP95Ms: percentile(tpots, 95),
    outputTokPerS: durationMs === 0 ? 0 : (requests.length * outputTokens * 1000) / durationMs,
    perUserTokPerS: tpotP50Ms === 0 ? 0 : 1000 / tpotP50Ms,
    aggregateDecodeTokPerS: tpotP50Ms === 0 ? 0 : (peakRunning * 1000) / tpotP50Ms,
    durationMs,
    queuedRequests: requests.filter((r) => r.timing.queueMs > 0).length,
    peakRunning,
  };
}

/** numpy's default (linear) percentile, which bench_serving's p90/p95/p99 use. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (rank - low);
}
