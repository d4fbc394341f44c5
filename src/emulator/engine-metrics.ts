import * as client from 'prom-client';
import { SGLANG_METRIC_FAMILIES, type MetricFamilySpec } from './sglang-metric-families';

/** Live engine numbers the scheduler gauges read at scrape time. */
export interface EngineGaugeSource {
  runningRequests(): number;
  queuedRequests(): number;
  usedTokens(): number;
  maxTotalTokens(): number;
  contextLength(): number;
  generationThroughput(): number;
  /** Mean accepted tokens per verify step; 0 without speculative decoding (as SGLang reports it). */
  specAcceptLength(): number;
  specNumSteps(): number;
  specNumDraftTokens(): number;
  /** Whether the last forward batch ran a captured CUDA graph. */
  isCudaGraph(): boolean;
}

/** The CUDA-graph phases SGLang reports (startup timings, graph memory), in its order. */
export const GRAPH_PHASES = [
  'prefill',
  'decode',
  'target_verify',
  'draft_prefill',
  'draft_decode',
  'draft_extend',
] as const;
export type GraphPhase = (typeof GRAPH_PHASES)[number];

/** What the start-up sequence measured, for the `startup_*` and memory gauges. */
export interface StartupReport {
  loadWeightS: number;
  kvCacheAllocationS: number;
  schedulerE2eS: number;
  tokenizerE2eS: number;
  cudaGraphS: Record<GraphPhase, number>;
  graphMemoryGb: Record<GraphPhase, number>;
  availableGpuMemoryGb: number;
  weightMemoryGb: number;
  kvCacheMemoryGb: number;
}

/** One finished generation request, as the tokenizer manager records it. */
export interface FinishedRequest {
  isStreaming: boolean;
  promptTokens: number;
  /** Prompt tokens served from the prefix cache (0 when the emulator models none). */
  cachedTokens: number;
  completionTokens: number;
  ttftS: number;
  e2eS: number;
  queueS: number;
}

/** One prefill forward: its tokens, whether a captured graph ran it, and how long it took. */
export interface PrefillPass {
  newTokens: number;
  cachedTokens: number;
  usesCudaGraph: boolean;
  forwardS: number;
}

type Labels = Record<string, string>;

// The `gt`/`le` bands of SGLang's routing-key distribution gauges (gt < count <= le).
const ROUTING_KEY_BANDS: ReadonlyArray<[string, string]> = [
  ['0', '1'],
  ['1', '2'],
  ['2', '3'],
  ['3', '5'],
  ['5', '7'],
  ['7', '10'],
  ['10', '20'],
  ['20', '50'],
  ['50', '100'],
  ['100', '200'],
  ['200', '+Inf'],
];

/**
 * SGLang's Prometheus families on the emulator's own registry: every family of the recorded 0.5.17 exposition, with
 * its type, help, label names and buckets (src/emulator/sglang-metric-families.ts). Request-level series carry
 * `{model_name, engine_type}` (+ `is_streaming` where SGLang splits by it); scheduler series add `tp_rank, pp_rank,
 * moe_ep_rank`. Families the emulator does not model report 0.
 */
export class EngineMetrics {
  /** The registry `/metrics` renders; never prom-client's global one. */
  readonly registry = new client.Registry();
  private readonly counters = new Map<string, client.Counter<string>>();
  private readonly histograms = new Map<string, client.Histogram<string>>();
  private readonly requestLabels: Labels;
  private readonly schedulerLabels: Labels;
  private readonly activeHttp = new Map<string, { labels: Labels; count: number }>();
  private startup: StartupReport | undefined;

  constructor(
    identity: { modelName: string; schedulerPid: number },
    private readonly source: EngineGaugeSource,
  ) {
    this.requestLabels = { engine_type: 'unified', model_name: identity.modelName };
    this.schedulerLabels = { ...this.requestLabels, moe_ep_rank: '0', pp_rank: '0', tp_rank: '0' };
    const gauges = this.gaugeReaders(identity.schedulerPid);
    for (const spec of SGLANG_METRIC_FAMILIES) {
      if (spec.type === 'gauge') this.addGauge(spec, gauges[spec.name] ?? (() => [[this.labelsFor(spec), 0]]));
      else if (spec.type === 'counter') this.counters.set(spec.name, this.addCounter(spec));
      else this.histograms.set(spec.name, this.addHistogram(spec));
    }
  }

  /** Records a finished request: counters by `is_streaming`, TTFT, e2e, queue time, token histograms. */
  observeFinished(request: FinishedRequest): void {
    const streaming = { ...this.requestLabels, is_streaming: String(request.isStreaming) };
    this.counter('sglang:num_requests_total').inc(streaming);
    this.counter('sglang:prompt_tokens_total').inc(streaming, request.promptTokens);
    this.counter('sglang:generation_tokens_total').inc(streaming, request.completionTokens);
    if (request.cachedTokens > 0)
      this.counter('sglang:cached_tokens_total').inc(
        { ...this.requestLabels, cache_source: 'device' },
        request.cachedTokens,
      );
    this.histogram('sglang:time_to_first_token_seconds').observe(streaming, request.ttftS);
    this.histogram('sglang:e2e_request_latency_seconds').observe(streaming, request.e2eS);
    this.histogram('sglang:queue_time_seconds').observe(this.schedulerLabels, request.queueS);
    this.histogram('sglang:prompt_tokens_histogram').observe(this.requestLabels, request.promptTokens);
    this.histogram('sglang:uncached_prompt_tokens_histogram').observe(
      this.requestLabels,
      request.promptTokens - request.cachedTokens,
    );
    this.histogram('sglang:generation_tokens_histogram').observe(this.requestLabels, request.completionTokens);
  }

  /**
   * Records the gap before a streamed step that delivered `tokens` tokens: one inter-token-latency observation per
   * token, each `gapS / tokens`, as SGLang's tokenizer manager does (so a 4-token EAGLE step counts 4).
   */
  observeTokenGap(gapS: number, tokens: number): void {
    const itl = this.histogram('sglang:inter_token_latency_seconds');
    for (let i = 0; i < tokens; i++) itl.observe(this.requestLabels, gapS / Math.max(1, tokens));
  }

  /** Records one prefill forward (graph pass counter, realtime token counters, per-stage latency). */
  observePrefill(pass: PrefillPass): void {
    const labels = (extra: Labels): Labels => ({ ...this.schedulerLabels, ...extra });
    this.counter('sglang:cuda_graph_passes_total').inc(
      labels({ mode: pass.usesCudaGraph ? 'prefill_cuda_graph' : 'prefill_none' }),
    );
    this.counter('sglang:realtime_tokens_total').inc(labels({ mode: 'prefill_compute' }), pass.newTokens);
    if (pass.cachedTokens > 0)
      this.counter('sglang:realtime_tokens_total').inc(labels({ mode: 'prefill_cache' }), pass.cachedTokens);
    const stage = this.histogram('sglang:per_stage_req_latency_seconds');
    stage.observe(labels({ stage: 'request_process' }), 0.0002);
    stage.observe(labels({ stage: 'prefill_forward' }), pass.forwardS);
  }

  /** Records one decode forward that produced `tokens` tokens. */
  observeDecodeStep(tokens: number, usesCudaGraph: boolean): void {
    const labels = (extra: Labels): Labels => ({ ...this.schedulerLabels, ...extra });
    this.counter('sglang:cuda_graph_passes_total').inc(
      labels({ mode: usesCudaGraph ? 'decode_cuda_graph' : 'decode_none' }),
    );
    this.counter('sglang:realtime_tokens_total').inc(labels({ mode: 'decode' }), tokens);
  }

  /** Sets the start-up gauges once the engine finished loading. */
  setStartupReport(report: StartupReport): void {
    this.startup = report;
  }

  /**
   * Counts an HTTP request under its route template (`/v1/models/{model:path}`, or the raw path for unknown
   * routes) and returns the callback that counts its response status.
   */
  httpRequestStarted(endpoint: string, method: string): (status: number) => void {
    const labels = { endpoint, method };
    this.counter('sglang:http_requests_total').inc(labels);
    const key = `${method} ${endpoint}`;
    const active = this.activeHttp.get(key) ?? { labels, count: 0 };
    active.count += 1;
    this.activeHttp.set(key, active);
    let isDone = false;
    return (status) => {
      if (isDone) return;
      isDone = true;
      active.count -= 1;
      if (status > 0) this.counter('sglang:http_responses_total').inc({ ...labels, status_code: String(status) });
    };
  }

  /** Prometheus text exposition of all series. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private counter(name: string): client.Counter<string> {
    return this.counters.get(name)!;
  }

  private histogram(name: string): client.Histogram<string> {
    return this.histograms.get(name)!;
  }

  private labelsFor(spec: MetricFamilySpec): Labels {
    if (spec.labelNames.includes('tp_rank')) return this.schedulerLabels;
    return spec.labelNames.length === 0 ? {} : this.requestLabels;
  }

  private addGauge(spec: MetricFamilySpec, read: () => Array<[Labels, number]>): void {
    new client.Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) {
          if (Object.keys(labels).length === 0) this.set(value);
          else this.set(labels, value);
        }
      },
    });
  }

  private addCounter(spec: MetricFamilySpec): client.Counter<string> {
    const isCpu = spec.name === 'sglang:process_cpu_seconds_total';
    return new client.Counter({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [this.registry],
      // Read at scrape time: the emulator's one process stands in for SGLang's tokenizer process.
      ...(isCpu
        ? {
            collect(this: client.Counter<string>) {
              const usage = process.cpuUsage();
              this.reset();
              this.inc({ component: 'detokenizer' }, 0);
              this.inc({ component: 'tokenizer' }, (usage.user + usage.system) / 1e6);
            },
          }
        : {}),
    });
  }

  private addHistogram(spec: MetricFamilySpec): client.Histogram<string> {
    return new client.Histogram({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      buckets: [...(spec.buckets ?? [])],
      registers: [this.registry],
    });
  }

  /** The value readers of the gauges the emulator models; every other gauge reads 0. */
  private gaugeReaders(schedulerPid: number): Record<string, () => Array<[Labels, number]>> {
    const s = this.source;
    const one = (read: () => number) => (): Array<[Labels, number]> => [[this.schedulerLabels, read()]];
    const usage = (): number => s.usedTokens() / Math.max(1, s.maxTotalTokens());
    const byPhase = (read: (phase: GraphPhase) => number, labels: Labels) => (): Array<[Labels, number]> =>
      GRAPH_PHASES.map((phase) => [{ ...labels, phase }, read(phase)]);
    const started = (read: (report: StartupReport) => number) => one(() => (this.startup ? read(this.startup) : 0));
    return {
      'sglang:routing_keys_active': () => [[{}, 0]],
      'sglang:http_requests_active': () => [...this.activeHttp.values()].map((a) => [a.labels, a.count]),
      'sglang:num_running_reqs': one(() => s.runningRequests()),
      'sglang:num_queue_reqs': one(() => s.queuedRequests()),
      'sglang:num_used_tokens': one(() => s.usedTokens()),
      'sglang:kv_used_tokens': one(() => s.usedTokens()),
      'sglang:kv_available_tokens': one(() => Math.max(0, s.maxTotalTokens() - s.usedTokens())),
      'sglang:max_total_num_tokens': one(() => s.maxTotalTokens()),
      'sglang:num_pages': one(() => s.maxTotalTokens()),
      'sglang:page_size': one(() => 1),
      'sglang:context_len': one(() => s.contextLength()),
      'sglang:token_usage': one(usage),
      'sglang:full_token_usage': one(usage),
      'sglang:gen_throughput': one(() => s.generationThroughput()),
      'sglang:spec_accept_length': one(() => s.specAcceptLength()),
      'sglang:spec_accept_rate': one(() =>
        s.specNumDraftTokens() > 1 ? Math.max(0, s.specAcceptLength() - 1) / (s.specNumDraftTokens() - 1) : 0,
      ),
      'sglang:spec_num_steps': one(() => s.specNumSteps()),
      'sglang:spec_num_draft_tokens': one(() => s.specNumDraftTokens()),
      'sglang:is_cuda_graph': one(() => (s.isCudaGraph() ? 1 : 0)),
      'sglang:new_token_ratio': one(() => 0.7),
      'sglang:startup_available_gpu_memory_gb': started((r) => r.availableGpuMemoryGb),
      'sglang:weight_memory_usage_gb': started((r) => r.weightMemoryGb),
      'sglang:kv_cache_memory_usage_gb': started((r) => r.kvCacheMemoryGb),
      'sglang:graph_memory_usage_gb': byPhase((phase) => this.startup?.graphMemoryGb[phase] ?? 0, this.schedulerLabels),
      'sglang:startup_cuda_graph_time_seconds': byPhase(
        (phase) => this.startup?.cudaGraphS[phase] ?? 0,
        this.requestLabels,
      ),
      'sglang:startup_time_seconds': () => {
        const r = this.startup;
        if (!r) return [];
        const phases: Array<[string, number]> = [
          ['load_weight', r.loadWeightS],
          ['kv_cache_allocation', r.kvCacheAllocationS],
          ['scheduler_e2e', r.schedulerE2eS],
          ['tokenizer_e2e', r.tokenizerE2eS],
        ];
        return phases.map(([phase, value]) => [{ ...this.requestLabels, phase }, value]);
      },
      'sglang:routing_key_running_req_count': () =>
        ROUTING_KEY_BANDS.map(([gt, le]) => [{ ...this.schedulerLabels, gt, le }, 0]),
      'sglang:routing_key_all_req_count': () =>
        ROUTING_KEY_BANDS.map(([gt, le]) => [{ ...this.schedulerLabels, gt, le }, 0]),
      'sglang:num_retracted_reqs': () => [[{ ...this.schedulerLabels, pid: String(schedulerPid) }, 0]],
      'sglang:num_paused_reqs': () => [[{ ...this.schedulerLabels, pid: String(schedulerPid) }, 0]],
    };
  }
}
