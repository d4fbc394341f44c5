import type { BenchServingSummary } from '../shared/bench-summary';
import { runBenchDetailed, type BenchOptions, type BenchRun } from './run-bench';

/** One level of a sweep: what it loaded the server with, and what it measured. */
export interface SweepLevel {
  /** `synchronous` (one request at a time), `throughput` (all at once), or `rate` (Poisson at `requestRate`). */
  kind: 'synchronous' | 'throughput' | 'rate';
  run: BenchRun;
}

/** A sweep's settings: a run's, less the load (the sweep chooses it), plus how many rates to try in between. */
export type SweepOptions = Omit<BenchOptions, 'maxConcurrency' | 'requestRate'> & {
  /** Poisson rates between the synchronous and the saturating request throughput. @default 4 */
  rates?: number;
  /** Called as each level starts, for progress. */
  onLevel?: (level: { index: number; total: number; kind: SweepLevel['kind']; requestRate?: number }) => void;
};

/**
 * The load from idle to saturation, as guidellm's sweep does: first one request at a time (the best latency the
 * server gives), then every request at once (the most requests per second it completes), then Poisson arrivals
 * at rates evenly between those two throughputs, where latency turns into queueing. Each level is a whole run.
 */
export async function runSweep(options: SweepOptions): Promise<SweepLevel[]> {
  const { rates = 4, onLevel, ...base } = options;
  if (!(Number.isInteger(rates) && rates >= 1)) throw new RangeError(`rates ${rates} must be an integer >= 1`);
  const total = rates + 2;
  onLevel?.({ index: 0, total, kind: 'synchronous' });
  const synchronous = await runBenchDetailed({ ...base, maxConcurrency: 1 });
  onLevel?.({ index: 1, total, kind: 'throughput' });
  const saturated = await runBenchDetailed({ ...base, requestRate: Infinity });
  const levels: SweepLevel[] = [
    { kind: 'synchronous', run: synchronous },
    { kind: 'throughput', run: saturated },
  ];
  for (const [i, rate] of ratesBetween(synchronous.summary, saturated.summary, rates).entries()) {
    onLevel?.({ index: i + 2, total, kind: 'rate', requestRate: rate });
    // Later levels reuse warm connections and compiled paths: one warm-up was enough.
    levels.push({ kind: 'rate', run: await runBenchDetailed({ ...base, requestRate: rate, warmupRequests: 0 }) });
  }
  return levels;
}

/** `count` rates strictly between the two throughputs, evenly spaced (none when the server did not saturate). */
export function ratesBetween(low: BenchServingSummary, high: BenchServingSummary, count: number): number[] {
  const from = low.request_throughput;
  const to = high.request_throughput;
  if (!(from > 0) || !(to > from)) return [];
  return Array.from({ length: count }, (_, i) => from + ((to - from) * (i + 1)) / (count + 1));
}
