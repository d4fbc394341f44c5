import { kvReservation } from './kv-pool';
import { planTiming, type RequestTiming, type SpeculativeSettings, type TimingConstants } from './timing-model';

/**
 * A closed-loop load as `bench_serving --max-concurrency N` applies it: N users send at once, each sends its next
 * request the moment its previous one ends, until `numPrompts` have been sent. The requests go to `containers`
 * engines (Modal replicas), each taking at most `maxInputs` at once (`@modal.concurrent(max_inputs=…)`); every engine
 * has its own decode slots and KV pool.
 */
export interface LoadScenario {
  constants: TimingConstants;
  /** `--max-running-requests`: at most this many decode on one engine, the rest wait FIFO. */
  maxRunningRequests: number;
  isSpeculative: boolean;
  /** The EAGLE settings (the guide's 3 / 1 / 4 when absent). */
  speculative?: SpeculativeSettings;
  /**
   * One engine's KV pool in tokens (`max_total_num_tokens`); a request is admitted only when its reservation
   * (`kvReservation`: prompt + the tokens it generates) fits beside the running ones'. Absent: unlimited.
   */
  kvPoolTokens?: number;
  /** Engines serving the load, all warm (Modal's `max_containers` scaled out). @default 1 */
  containers?: number;
  /** Requests one container takes at once before the next one gets them (Modal's `max_inputs`). @default unlimited */
  maxInputs?: number;
  concurrency: number;
  numPrompts: number;
  promptTokens: number;
  /** Tokens every request generates (`ignore_eos`), at least 1. */
  outputTokens: number;
}

/** One request of a simulated load, in the guide's milliseconds from the load's start. */
export interface SimulatedRequest {
  index: number;
  /** The container (0-based) it ran on. */
  container: number;
  arrivalMs: number;
  admittedMs: number;
  endMs: number;
  timing: RequestTiming;
  /** Whether it waited while its engine had a free decode slot, because its KV reservation did not fit. */
  waitedForKv: boolean;
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
  /** Requests that waited for admission (a decode slot, KV room, or a container under `maxInputs`). */
  queuedRequests: number;
  /** Requests that waited while a decode slot was free, for KV room. */
  kvLimitedRequests: number;
  /** Largest number of requests decoding at once, over all containers. */
  peakRunning: number;
  /** Largest share of one engine's KV pool reserved at once (0 with an unlimited pool). */
  peakTokenUsage: number;
}

interface Pending {
  index: number;
  arrivalMs: number;
  waitedForKv: boolean;
}

interface Container {
  index: number;
  decoding: SimulatedRequest[];
  waiting: Pending[];
  reservedTokens: number;
  /** Placed and not finished (waiting or decoding): what `maxInputs` counts. */
  inFlight: number;
}

/**
 * Runs the emulator's timing model over a closed-loop load without a server: the same FIFO admission (decode slots and
 * KV room) and the same `planTiming` the request runner uses, on an event clock (guide time, time scale 1), with the
 * local platform's placement over containers (the least busy one under `maxInputs`, else a wait for room). The
 * emulator over HTTP plays this plan in wall-clock time; the benchmark prints both side by side.
 */
export function simulateLoad(scenario: LoadScenario): { requests: SimulatedRequest[]; figures: LoadFigures } {
  const { constants, maxRunningRequests, isSpeculative, promptTokens } = scenario;
  const outputTokens = Math.max(1, scenario.outputTokens);
  const poolTokens = scenario.kvPoolTokens ?? Number.POSITIVE_INFINITY;
  const reservation = kvReservation(promptTokens, outputTokens, poolTokens);
  const maxInputs = scenario.maxInputs ?? Number.POSITIVE_INFINITY;
  const containers: Container[] = Array.from({ length: Math.max(1, scenario.containers ?? 1) }, (_, index) => ({
    index,
    decoding: [],
    waiting: [],
    reservedTokens: 0,
    inFlight: 0,
  }));
  const requests: SimulatedRequest[] = [];
  const unplaced: Array<{ index: number; arrivalMs: number }> = [];
  let sent = 0;
  let decodingTotal = 0;
  let peakRunning = 0;
  let peakReserved = 0;

  const admit = (container: Container, pending: Pending, nowMs: number): void => {
    const running = container.decoding.length + 1;
    decodingTotal += 1;
    peakRunning = Math.max(peakRunning, decodingTotal);
    container.reservedTokens += reservation;
    peakReserved = Math.max(peakReserved, container.reservedTokens);
    const timing = planTiming(constants, {
      promptTokens,
      queueMs: nowMs - pending.arrivalMs,
      running,
      isSpeculative,
      ...(scenario.speculative ? { speculative: scenario.speculative } : {}),
      timeScale: 1,
    });
    const request: SimulatedRequest = {
      index: pending.index,
      container: container.index,
      arrivalMs: pending.arrivalMs,
      admittedMs: nowMs,
      endMs: pending.arrivalMs + timing.ttftMs + (outputTokens - 1) * timing.tpotMs,
      timing,
      waitedForKv: pending.waitedForKv,
    };
    container.decoding.push(request);
    requests.push(request);
  };
  const hasSlot = (c: Container): boolean => c.decoding.length < maxRunningRequests;
  const hasKv = (c: Container): boolean => c.reservedTokens + reservation <= poolTokens;
  // SGLang's waiting queue is first come, first served: the head waits for a slot and KV room, and blocks the rest.
  const admitWaiting = (container: Container, nowMs: number): void => {
    for (;;) {
      const head = container.waiting[0];
      if (!head || !hasSlot(container)) return;
      if (!hasKv(container)) {
        head.waitedForKv = true;
        return;
      }
      container.waiting.shift();
      admit(container, head, nowMs);
    }
  };
  const place = (index: number, arrivalMs: number, nowMs: number): boolean => {
    let best: Container | undefined;
    for (const c of containers) if (c.inFlight < maxInputs && (!best || c.inFlight < best.inFlight)) best = c;
    if (!best) return false;
    best.inFlight += 1;
    best.waiting.push({ index, arrivalMs, waitedForKv: false });
    admitWaiting(best, nowMs);
    return true;
  };
  const arrive = (nowMs: number): void => {
    if (sent >= scenario.numPrompts) return;
    const index = sent++;
    if (unplaced.length > 0 || !place(index, nowMs, nowMs)) unplaced.push({ index, arrivalMs: nowMs });
  };

  for (let user = 0; user < scenario.concurrency; user++) arrive(0);
  for (;;) {
    let from: Container | undefined;
    let next = -1;
    for (const c of containers) {
      for (let i = 0; i < c.decoding.length; i++) {
        const candidate = c.decoding[i] as SimulatedRequest;
        const best = from ? (from.decoding[next] as SimulatedRequest) : undefined;
        if (!best || candidate.endMs < best.endMs || (candidate.endMs === best.endMs && candidate.index < best.index)) {
          from = c;
          next = i;
        }
      }
    }
    if (!from) break;
    const [done] = from.decoding.splice(next, 1) as [SimulatedRequest];
    decodingTotal -= 1;
    from.reservedTokens -= reservation;
    from.inFlight -= 1;
    // As in the emulator: the freed slot goes to the engine's queue head first, then to requests waiting for a
    // container, then the user's next request arrives.
    admitWaiting(from, done.endMs);
    while (unplaced.length > 0) {
      const head = unplaced[0] as { index: number; arrivalMs: number };
      if (!place(head.index, head.arrivalMs, done.endMs)) break;
      unplaced.shift();
    }
    arrive(done.endMs);
  }
  requests.sort((a, b) => a.index - b.index);
  const peakTokenUsage = Number.isFinite(poolTokens) ? peakReserved / poolTokens : 0;
  return { requests, figures: figuresOf(scenario.concurrency, requests, outputTokens, peakRunning, peakTokenUsage) };
}

function figuresOf(
  concurrency: number,
  requests: SimulatedRequest[],
  outputTokens: number,
  peakRunning: number,
  peakTokenUsage: number,
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
    kvLimitedRequests: requests.filter((r) => r.waitedForKv).length,
    peakRunning,
    peakTokenUsage,
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
