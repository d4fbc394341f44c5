import type { BenchServingSummary } from '../shared/bench-summary';
import { seriesStats, type SeriesStats } from './bench-stats';
import type { RequestRecord } from './request-record';

/** The figures of bench_serving's `calculate_metrics`, under its JSON keys (the summary less the run's settings). */
export type BenchMetrics = Pick<
  BenchServingSummary,
  | 'duration'
  | 'completed'
  | 'failed'
  | 'total_input_tokens'
  | 'total_output_tokens'
  | 'request_throughput'
  | 'input_throughput'
  | 'output_throughput'
  | 'total_throughput'
  | 'concurrency'
  | `${'mean' | 'median' | 'std' | 'p90' | 'p95' | 'p99'}_${'ttft' | 'tpot' | 'itl' | 'e2e_latency'}_ms`
  | 'max_itl_ms'
>;

/**
 * bench_serving's metrics over the records of one run that lasted `durationS` seconds. Failed requests count
 * nowhere but `failed`. TPOT is (latency − TTFT)/(output tokens − 1) for requests with more than one output token;
 * ITL gaps are spread over the tokens their chunk carried; concurrency is Σ E2E / duration.
 */
export function calculateMetrics(records: readonly RequestRecord[], durationS: number): BenchMetrics {
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2es: number[] = [];
  let totalInput = 0;
  let totalOutput = 0;
  for (const record of records) {
    if (!record.success) continue;
    totalInput += record.promptTokens;
    totalOutput += record.outputTokens;
    if (record.outputTokens > 1) tpots.push((record.latency - record.ttft) / (record.outputTokens - 1));
    for (let k = 0; k < record.itl.length; k++) {
      const tokens = Math.max(1, record.chunkTokens[k] ?? 1);
      const perToken = record.itl[k]! / tokens;
      for (let t = 0; t < tokens; t++) itls.push(perToken);
    }
    ttfts.push(record.ttft);
    e2es.push(record.latency);
  }
  const completed = e2es.length;
  const itlStats = seriesStats(itls);
  const per = (value: number): number => (durationS > 0 ? value / durationS : 0);
  return {
    duration: durationS,
    completed,
    failed: records.length - completed,
    total_input_tokens: totalInput,
    total_output_tokens: totalOutput,
    request_throughput: per(completed),
    input_throughput: per(totalInput),
    output_throughput: per(totalOutput),
    total_throughput: per(totalInput + totalOutput),
    concurrency: per(e2es.reduce((a, b) => a + b, 0)),
    ...msFigures('ttft', seriesStats(ttfts)),
    ...msFigures('tpot', seriesStats(tpots)),
    ...msFigures('itl', itlStats),
    max_itl_ms: itlStats.max * 1000,
    ...msFigures('e2e_latency', seriesStats(e2es)),
  };
}

type Figure = 'mean' | 'median' | 'std' | 'p90' | 'p95' | 'p99';

function msFigures<N extends 'ttft' | 'tpot' | 'itl' | 'e2e_latency'>(
  name: N,
  stats: SeriesStats,
): Record<`${Figure}_${N}_ms`, number> {
  const figures: Figure[] = ['mean', 'median', 'std', 'p90', 'p95', 'p99'];
  return Object.fromEntries(figures.map((f) => [`${f}_${name}_ms`, stats[f] * 1000])) as Record<
    `${Figure}_${N}_ms`,
    number
  >;
}
