import * as client from 'prom-client';

/** Live engine numbers the gauges read at scrape time. */
export interface EngineGaugeSource {
  runningRequests(): number;
  queuedRequests(): number;
  usedTokens(): number;
  maxTotalTokens(): number;
  generationThroughput(): number;
  specAcceptLength(): number;
}

/** SGLang's Prometheus series (names as in sglang/srt/metrics/collector.py), on the emulator's own registry. */
export class EngineMetrics {
  /** The registry `/metrics` renders; never prom-client's global one. */
  readonly registry = new client.Registry();
  readonly promptTokens: client.Counter<string>;
  readonly generationTokens: client.Counter<string>;
  readonly requests: client.Counter<string>;
  readonly abortedRequests: client.Counter<string>;
  readonly timeToFirstToken: client.Histogram<string>;
  readonly interTokenLatency: client.Histogram<string>;
  readonly e2eLatency: client.Histogram<string>;
  readonly queueTime: client.Histogram<string>;
  private readonly labels: Record<string, string>;

  constructor(modelName: string, source: EngineGaugeSource) {
    this.labels = { model_name: modelName, engine_type: 'unified', tp_rank: '0', pp_rank: '0' };
    const labelNames = Object.keys(this.labels);
    const registers = [this.registry];
    const labels = this.labels;
    const gauge = (name: string, help: string, read: () => number): void => {
      new client.Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.set(labels, read());
        },
      });
    };
    gauge('sglang:num_running_reqs', 'The number of running requests.', () => source.runningRequests());
    gauge('sglang:num_queue_reqs', 'The number of requests in the waiting queue.', () => source.queuedRequests());
    gauge('sglang:num_used_tokens', 'The number of used tokens.', () => source.usedTokens());
    gauge('sglang:max_total_num_tokens', 'Maximum total number of tokens in the KV cache pool.', () =>
      source.maxTotalTokens(),
    );
    gauge('sglang:token_usage', 'The token usage.', () => source.usedTokens() / Math.max(1, source.maxTotalTokens()));
    gauge('sglang:gen_throughput', 'The generation throughput (token/s).', () => source.generationThroughput());
    gauge('sglang:spec_accept_length', 'The average acceptance length of speculative decoding.', () =>
      source.specAcceptLength(),
    );
    gauge('sglang:cache_hit_rate', 'The prefix cache hit rate.', () => 0);
    const counter = (name: string, help: string) => new client.Counter({ name, help, labelNames, registers });
    this.promptTokens = counter('sglang:prompt_tokens_total', 'Number of prefill tokens processed.');
    this.generationTokens = counter('sglang:generation_tokens_total', 'Number of generation tokens processed.');
    this.requests = counter('sglang:num_requests_total', 'Number of requests processed.');
    this.abortedRequests = counter('sglang:num_aborted_requests_total', 'Number of requests aborted.');
    const histogram = (name: string, help: string, buckets: number[]) =>
      new client.Histogram({ name, help, labelNames, registers, buckets });
    this.timeToFirstToken = histogram(
      'sglang:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400],
    );
    this.interTokenLatency = histogram(
      'sglang:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      [
        0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1,
        2,
      ],
    );
    this.e2eLatency = histogram(
      'sglang:e2e_request_latency_seconds',
      'Histogram of End-to-end request latency in seconds',
      [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 800],
    );
    this.queueTime = histogram(
      'sglang:queue_time_seconds',
      'Histogram of queueing time in seconds.',
      [0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600],
    );
  }

  /** The label set every series carries. */
  get labelValues(): Record<string, string> {
    return this.labels;
  }

  /** Prometheus text exposition of all series. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
