/** One metric family of SGLang's `/metrics`: name, type, help, label names and histogram buckets. */
export interface MetricFamilySpec {
  name: string;
  type: 'gauge' | 'counter' | 'histogram';
  help: string;
  /** Every label name of its series (sorted), histogram `le` excluded. */
  labelNames: readonly string[];
  buckets?: readonly number[];
}

/** Labels of the per-rank series most families carry (the scheduler's and tokenizer manager's collectors). */
const RANK_LABELS = ['engine_type', 'model_name', 'moe_ep_rank', 'pp_rank', 'tp_rank'];

/** The token-length bounds SGLang shares between its prompt, uncached-prompt and generation histograms. */
const TOKEN_LENGTH_BUCKETS = [
  100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12500, 15000, 17500, 20000,
  22500, 25000, 27500, 30000, 35000, 40000, 60000, 80000, 100000, 200000, 300000, 400000, 600000, 800000, 1000000,
  1100000,
];

/** RANK_LABELS with a family's extra labels, sorted as SGLang prints them. */
function ranked(...extra: string[]): string[] {
  return [...RANK_LABELS, ...extra].sort();
}

function gauge(name: string, help: string, labelNames: readonly string[] = RANK_LABELS): MetricFamilySpec {
  return { name, type: 'gauge', help, labelNames };
}

function counter(name: string, help: string, labelNames: readonly string[] = RANK_LABELS): MetricFamilySpec {
  return { name, type: 'counter', help, labelNames };
}

function histogram(
  name: string,
  help: string,
  labelNames: readonly string[],
  buckets: readonly number[],
): MetricFamilySpec {
  return { name, type: 'histogram', help, labelNames, buckets };
}

/**
 * The 69 families real SGLang 0.5.17 exposes with `--enable-metrics` (the recorded `/metrics` text of the
 * 2026-12-01 recordings, one H200), sorted by name: help texts, label names and bucket bounds as the server printed them.
 */
export const SGLANG_METRIC_FAMILIES: readonly MetricFamilySpec[] = [
  gauge('sglang:cache_hit_rate', 'The prefix cache hit rate.'),
  counter('sglang:cached_tokens_total', 'Number of cached prompt tokens by source (device/host/storage).', [
    'cache_source',
    'engine_type',
    'model_name',
  ]),
  gauge('sglang:context_len', 'Maximum context length.'),
  counter(
    'sglang:cuda_graph_passes_total',
    'Total number of forward passes categorized by CUDA graph.',
    ranked('mode'),
  ),
  gauge('sglang:decode_sum_seq_lens', 'The sum of all sequence lengths in decode.'),
  histogram(
    'sglang:e2e_request_latency_seconds',
    'Histogram of End-to-end request latency in seconds',
    ['engine_type', 'is_streaming', 'model_name'],
    [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400],
  ),
  gauge('sglang:full_token_usage', 'The token usage for full attention layers.'),
  gauge('sglang:fwd_occupancy', 'Forward pass GPU occupancy percentage.'),
  gauge('sglang:gen_throughput', 'The generation throughput (token/s).'),
  histogram(
    'sglang:generation_tokens_histogram',
    'Histogram of generation token length.',
    ['engine_type', 'model_name'],
    TOKEN_LENGTH_BUCKETS,
  ),
  counter('sglang:generation_tokens_total', 'Number of generation tokens processed.', [
    'engine_type',
    'is_streaming',
    'model_name',
  ]),
  gauge('sglang:graph_memory_usage_gb', 'Memory used by captured device graphs in GB.', ranked('phase')),
  gauge('sglang:http_requests_active', 'Number of currently active HTTP requests', ['endpoint', 'method']),
  counter('sglang:http_requests_total', 'Total number of HTTP requests by endpoint and method', ['endpoint', 'method']),
  counter('sglang:http_responses_total', 'Total number of HTTP responses by endpoint and status code', [
    'endpoint',
    'method',
    'status_code',
  ]),
  histogram(
    'sglang:inter_token_latency_seconds',
    'Histogram of inter-token latency in seconds.',
    ['engine_type', 'model_name'],
    [
      0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1,
      2, 4, 6, 8,
    ],
  ),
  gauge('sglang:is_cuda_graph', 'Whether the batch is using CUDA graph.'),
  gauge('sglang:kv_available_tokens', 'Number of free token slots in the KV cache pool.'),
  gauge('sglang:kv_cache_memory_usage_gb', 'Memory used by the KV cache pools in GB.'),
  gauge('sglang:kv_evictable_tokens', 'Number of evictable (radix-cached) token slots in the KV cache pool.'),
  gauge('sglang:kv_used_tokens', 'Number of actively used token slots in the KV cache pool.'),
  gauge('sglang:mamba_available_tokens', 'Number of free state slots in the mamba SSM pool (hybrid-SSM only).'),
  gauge('sglang:mamba_evictable_tokens', 'Number of evictable (radix-cached) state slots in the mamba SSM pool.'),
  gauge('sglang:mamba_usage', 'The token usage for Mamba layers.'),
  gauge('sglang:mamba_used_tokens', 'Number of actively used state slots in the mamba SSM pool.'),
  gauge('sglang:max_total_num_tokens', 'Maximum total number of tokens in the KV cache pool.'),
  gauge('sglang:new_token_ratio', 'The new token ratio.'),
  gauge('sglang:num_decode_prealloc_queue_reqs', 'The number of requests in the decode prealloc queue.'),
  gauge('sglang:num_decode_transfer_queue_reqs', 'The number of requests in the decode transfer queue.'),
  gauge('sglang:num_grammar_queue_reqs', 'The number of requests in the grammar waiting queue.'),
  gauge('sglang:num_pages', 'Number of KV cache pages.'),
  gauge('sglang:num_paused_reqs', 'The number of paused requests by async weight sync.', ranked('pid')),
  gauge('sglang:num_prefill_bootstrap_queue_reqs', 'The number of requests in the prefill bootstrap queue.'),
  gauge('sglang:num_prefill_inflight_queue_reqs', 'The number of requests in the prefill inflight queue.'),
  gauge('sglang:num_queue_reqs', 'The number of requests in the waiting queue.'),
  counter('sglang:num_requests_total', 'Number of requests processed.', ['engine_type', 'is_streaming', 'model_name']),
  gauge('sglang:num_retracted_reqs', 'The number of retracted requests.', ranked('pid')),
  gauge('sglang:num_running_reqs', 'The number of running requests.'),
  gauge('sglang:num_unique_running_routing_keys', 'Number of unique routing keys in running batch.'),
  gauge('sglang:num_used_tokens', 'The number of used tokens.'),
  gauge('sglang:page_size', 'KV cache page size in tokens.'),
  gauge(
    'sglang:pending_prealloc_token_usage',
    'The token usage for pending preallocated tokens (not preallocated yet).',
  ),
  histogram(
    'sglang:per_stage_req_latency_seconds',
    'The latency of each stage of requests.',
    ranked('stage'),
    [
      0.001, 0.0016200000000000001, 0.0026244000000000007, 0.004251528, 0.006887475360000002, 0.011157710083200004,
      0.018075490334784006, 0.029282294342350097, 0.047437316834607154, 0.07684845327206359, 0.12449449430074302,
      0.20168108076720373, 0.3267233508428701, 0.5292918283654495, 0.8574527619520282, 1.389073474362286,
      2.2502990284669036, 3.6454844261163837, 5.905684770308542, 9.567209327899839, 15.49887911119774,
      25.10818416014034, 40.67525833942735, 65.89391850987231, 106.74814798599316, 172.93199973730896,
      280.1498395744405, 453.84274011059364, 735.2252389791618, 1191.064887146242,
    ],
  ),
  counter('sglang:process_cpu_seconds_total', 'Total CPU time consumed by this process (user + system)', ['component']),
  histogram(
    'sglang:prompt_tokens_histogram',
    'Histogram of prompt token length.',
    ['engine_type', 'model_name'],
    TOKEN_LENGTH_BUCKETS,
  ),
  counter('sglang:prompt_tokens_total', 'Number of prefill tokens processed.', [
    'engine_type',
    'is_streaming',
    'model_name',
  ]),
  histogram(
    'sglang:queue_time_seconds',
    'Histogram of queueing time in seconds.',
    RANK_LABELS,
    [
      0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300,
      400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000,
    ],
  ),
  counter(
    'sglang:realtime_tokens_total',
    'Total number of tokens processed (updated on each log interval). mode: prefill_compute, prefill_cache, decode.',
    ranked('mode'),
  ),
  gauge(
    'sglang:routing_key_all_req_count',
    'Distribution of routing keys by running+waiting request count (gt < count <= le).',
    ranked('gt', 'le'),
  ),
  gauge(
    'sglang:routing_key_running_req_count',
    'Distribution of routing keys by running request count (gt < count <= le).',
    ranked('gt', 'le'),
  ),
  gauge('sglang:routing_keys_active', 'Number of unique routing keys with active requests', []),
  gauge(
    'sglang:spec_accept_length',
    'Mean acceptance length of speculative decoding (accepted drafts + bonus token per forward).',
  ),
  gauge('sglang:spec_accept_rate', 'Speculative acceptance rate (`accepted drafts / proposed drafts` in batch).'),
  gauge(
    'sglang:spec_block_accept_length',
    'Mean uncapped full-block accept length per verify step (accept + cap-trimmed drafts; exact only in DSpark cap-accept mode).',
  ),
  gauge(
    'sglang:spec_cap_length',
    'Mean DSpark confidence-scheduled verify window per verify step, incl the bonus slot (0 when no cap is scheduled).',
  ),
  gauge(
    'sglang:spec_num_draft_tokens',
    'Currently active speculative_num_draft_tokens (decouples from steps under topk>1).',
  ),
  gauge('sglang:spec_num_steps', 'Currently active speculative_num_steps.'),
  gauge('sglang:startup_available_gpu_memory_gb', 'Available GPU memory in GB at startup.'),
  gauge('sglang:startup_cuda_graph_time_seconds', 'CUDA graph capture duration by phase in seconds.', [
    'engine_type',
    'model_name',
    'phase',
  ]),
  gauge('sglang:startup_time_seconds', 'Engine startup duration by phase in seconds.', [
    'engine_type',
    'model_name',
    'phase',
  ]),
  gauge('sglang:swa_available_tokens', 'Number of free token slots in the SWA pool (hybrid-SWA only).'),
  gauge('sglang:swa_evictable_tokens', 'Number of evictable (radix-cached) token slots in the SWA pool.'),
  gauge('sglang:swa_token_usage', 'The token usage for SWA layers.'),
  gauge('sglang:swa_used_tokens', 'Number of actively used token slots in the SWA pool.'),
  histogram(
    'sglang:time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    ['engine_type', 'is_streaming', 'model_name'],
    [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400],
  ),
  gauge('sglang:token_usage', 'The token usage.'),
  histogram(
    'sglang:uncached_prompt_tokens_histogram',
    'Histogram of uncached (compute) prompt token length.',
    ['engine_type', 'model_name'],
    TOKEN_LENGTH_BUCKETS,
  ),
  gauge('sglang:utilization', 'The utilization.'),
  gauge('sglang:weight_memory_usage_gb', 'Memory used by model weights in GB.'),
];
