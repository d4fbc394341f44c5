import type { RequestRecord } from './request-record';

/** bench_serving's peak figures: the most output tokens in one wall-clock second, and the most requests open in one. */
export interface PeakFigures {
  max_output_tokens_per_s: number;
  max_concurrent_requests: number;
}

/**
 * Buckets the run into whole seconds from the first successful send, as bench_serving does: each output chunk
 * counts as one token in the second it arrived (bench_serving's count, even when a chunk carried several), and a
 * request counts in every second from its start to its end.
 */
export function peakFigures(records: readonly RequestRecord[]): PeakFigures {
  const ok = records.filter((r) => r.success);
  if (ok.length === 0) return { max_output_tokens_per_s: 0, max_concurrent_requests: 0 };
  const first = Math.min(...ok.map((r) => r.startTime));
  const last = Math.max(...ok.map((r) => r.startTime + r.latency));
  const seconds = Math.ceil(last - first) + 1;
  const tokens = new Array<number>(seconds).fill(0);
  const open = new Array<number>(seconds).fill(0);
  for (const record of ok) {
    let at = record.startTime + record.ttft;
    const count = (time: number): void => {
      const bucket = Math.trunc(time - first);
      if (bucket >= 0 && bucket < seconds) tokens[bucket]!++;
    };
    count(at);
    for (const gap of record.itl) {
      at += gap;
      count(at);
    }
    const from = Math.trunc(record.startTime - first);
    const to = Math.trunc(record.startTime + record.latency - first);
    for (let s = from; s < Math.min(to + 1, seconds); s++) open[s]!++;
  }
  return { max_output_tokens_per_s: Math.max(...tokens), max_concurrent_requests: Math.max(...open) };
}
