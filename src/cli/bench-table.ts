import { peakFigures, type BenchRun } from '../loadgen';

/** The result block bench_serving prints after a run, with the same labels, so the two read side by side. */
export function benchTable(run: BenchRun): string {
  const s = run.summary;
  const peaks = peakFigures(run.records);
  const lines: string[] = [];
  const row = (label: string, value: string | number): void => {
    lines.push(`${label.padEnd(40)} ${typeof value === 'number' ? value.toFixed(2) : value}`);
  };
  const rule = (title: string, fill: string): void => {
    const pad = 50 - title.length;
    lines.push(fill.repeat(Math.floor(pad / 2)) + title + fill.repeat(Math.ceil(pad / 2)));
  };
  // Counts print as integers, every other figure with two decimals (bench_serving's `{:<40} {:<10}` / `{:<10.2f}`).
  const count = (value: number): string => String(value);
  const head: Array<[string, string | number]> = [
    ['Backend:', s.backend],
    ['Traffic request rate:', String(s.request_rate)],
    ['Max request concurrency:', s.max_concurrency === null ? 'not set' : String(s.max_concurrency)],
    ['Successful requests:', count(s.completed)],
    ['Failed requests:', count(s.failed)],
    ['Benchmark duration (s):', s.duration],
    ['Total input tokens:', count(s.total_input_tokens)],
    ['Total generated tokens:', count(s.total_output_tokens)],
    ['Request throughput (req/s):', s.request_throughput],
    ['Input token throughput (tok/s):', s.input_throughput],
    ['Output token throughput (tok/s):', s.output_throughput],
    ['Peak output token throughput (tok/s):', peaks.max_output_tokens_per_s],
    ['Peak concurrent requests:', count(peaks.max_concurrent_requests)],
    ['Total token throughput (tok/s):', s.total_throughput],
    ['Concurrency:', s.concurrency],
  ];
  rule(' Serving Benchmark Result ', '=');
  for (const [label, value] of head) row(label, value);
  if (s.accept_length) row('Accept length:', s.accept_length);
  const block = (title: string, name: string, key: 'e2e_latency' | 'ttft' | 'tpot' | 'itl', withMax = false): void => {
    rule(title, '-');
    for (const stat of ['mean', 'median', 'p90', 'p95', 'p99'] as const) {
      const label = stat === 'mean' ? 'Mean' : stat === 'median' ? 'Median' : stat.toUpperCase();
      row(`${label} ${name} (ms):`, s[`${stat}_${key}_ms`]);
    }
    if (withMax) row(`Max ${name} (ms):`, s.max_itl_ms);
  };
  block('End-to-End Latency', 'E2E Latency', 'e2e_latency');
  block('Time to First Token', 'TTFT', 'ttft');
  block('Time per Output Token (excl. 1st token)', 'TPOT', 'tpot');
  block('Inter-Token Latency', 'ITL', 'itl', true);
  lines.push('='.repeat(50));
  return lines.join('\n');
}
