import { peakFigures, type BenchRun } from '../loadgen';

/** The result block bench_serving prints after a run, with the same labels, so the two read side by side. */
export function benchTable(run: BenchRun): string {
  const s = run.summary;
  const peaks = peakFigures(run.records);
  const lines: string[] = [];
  const row = (label: string, value: string | number): void => {
    lines.push(`${label.padEnd(40)} ${typeof value === 'number' ? value.toFixed(2) : value}`);
  };
  const count = (label: string, value: number): void => row(label, String(value));
  const rule = (title: string, fill: string): void => {
    const pad = 50 - title.length;
    lines.push(fill.repeat(Math.floor(pad / 2)) + title + fill.repeat(Math.ceil(pad / 2)));
  };
  rule(' Serving Benchmark Result ', '=');
  row('Backend:', s.backend);
  row('Traffic request rate:', String(s.request_rate));
  row('Max request concurrency:', s.max_concurrency === null ? 'not set' : String(s.max_concurrency));
  count('Successful requests:', s.completed);
  count('Failed requests:', s.failed);
  row('Benchmark duration (s):', s.duration);
  count('Total input tokens:', s.total_input_tokens);
  count('Total generated tokens:', s.total_output_tokens);
  row('Request throughput (req/s):', s.request_throughput);
  row('Input token throughput (tok/s):', s.input_throughput);
  row('Output token throughput (tok/s):', s.output_throughput);
  row('Peak output token throughput (tok/s):', peaks.max_output_tokens_per_s);
  count('Peak concurrent requests:', peaks.max_concurrent_requests);
  row('Total token throughput (tok/s):', s.total_throughput);
  row('Concurrency:', s.concurrency);
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
