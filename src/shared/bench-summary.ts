// One load-test run's figures, under the field names of SGLang's `bench_serving` JSON output (its `--output-file`
// lines), so a result written by `glm-ops bench --json` or kept by the rollout's performance phase loads beside
// bench_serving's own. Times in milliseconds, throughputs per second. The CLI, the loadgen, the performance
// activity and the workflows all read this one shape.

/** Where the prompts came from: bench_serving's `--dataset-name` values that glm-ops implements, plus the warmup's. */
export type BenchDatasetName = 'random' | 'sharegpt' | 'jsonl' | 'warmup';

export interface BenchServingSummary {
  backend: 'sglang-oai-chat';
  dataset_name: BenchDatasetName;
  /** Requests per second of the Poisson arrivals; `Infinity` is written as the string "inf", as bench_serving does. */
  request_rate: number | 'inf';
  max_concurrency: number | null;
  random_input_len?: number;
  random_output_len?: number;
  random_range_ratio?: number;
  /** Seconds from the first request sent to the last one finished (warm-up requests excluded). */
  duration: number;
  completed: number;
  /** glm-ops addition: requests that errored or returned no tokens (bench_serving only logs them). */
  failed: number;
  total_input_tokens: number;
  total_output_tokens: number;
  request_throughput: number;
  input_throughput: number;
  output_throughput: number;
  total_throughput: number;
  /** Sum of E2E latencies over the duration: the concurrency the server really saw. */
  concurrency: number;
  mean_ttft_ms: number;
  median_ttft_ms: number;
  std_ttft_ms: number;
  p90_ttft_ms: number;
  p95_ttft_ms: number;
  p99_ttft_ms: number;
  mean_tpot_ms: number;
  median_tpot_ms: number;
  std_tpot_ms: number;
  p90_tpot_ms: number;
  p95_tpot_ms: number;
  p99_tpot_ms: number;
  mean_itl_ms: number;
  median_itl_ms: number;
  std_itl_ms: number;
  p90_itl_ms: number;
  p95_itl_ms: number;
  p99_itl_ms: number;
  max_itl_ms: number;
  mean_e2e_latency_ms: number;
  median_e2e_latency_ms: number;
  std_e2e_latency_ms: number;
  p90_e2e_latency_ms: number;
  p95_e2e_latency_ms: number;
  p99_e2e_latency_ms: number;
  /** Speculative decoding's average accept length from `/get_server_info`, when the server reports one. */
  accept_length: number | null;
}
