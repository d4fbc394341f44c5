import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Engine } from './engine';
import type { StartupReport } from './engine-metrics';
import { nowSeconds, sendJson } from './http-reply';
import { emulatedModel, launchFacts, wireOf } from './serving-context';
import { acceptLengthOf, recentThroughput, resetAcceptLength } from './serving-stats';

/** The card `/v1/models` lists: `root` is the served name, `max_model_len` the model's context length. */
function modelCard(engine: Engine): Record<string, unknown> {
  const name = engine.args.servedModelName;
  return {
    id: name,
    object: 'model',
    created: nowSeconds(),
    owned_by: 'sglang',
    root: name,
    parent: null,
    max_model_len: emulatedModel(engine).contextLength,
  };
}

/** `GET /v1/models`. */
export function listModels(engine: Engine, res: ServerResponse): void {
  sendJson(res, 200, { object: 'list', data: [modelCard(engine)] });
}

/** `GET /v1/models/{model}`: the served name's card, else OpenAI's `model_not_found` 404 (recorded). */
export function retrieveModel(engine: Engine, res: ServerResponse, model: string): void {
  if (model === engine.args.servedModelName) return sendJson(res, 200, modelCard(engine));
  sendJson(res, 404, {
    error: {
      message: `The model '${model}' does not exist`,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    },
  });
}

/** `GET /model_info` (and the deprecated `/get_model_info`, which logs SGLang's deprecation line first). */
export function modelInfo(engine: Engine, res: ServerResponse, isDeprecatedPath: boolean): void {
  if (isDeprecatedPath) {
    engine.log.info(
      "Endpoint '/get_model_info' is deprecated and will be removed in a future version. Please use '/model_info' instead.",
    );
  }
  const model = emulatedModel(engine);
  const args = launchFacts(engine).serverArgs;
  const modelPath = engine.args.modelPath;
  const tokenizerPath = typeof args.tokenizer_path === 'string' ? args.tokenizer_path : modelPath;
  const common = {
    has_image_understanding: false,
    has_audio_understanding: false,
    model_type: model.modelType,
    architectures: model.architectures,
  };
  if (wireOf(engine).hasExtendedModelInfo) {
    return sendJson(res, 200, {
      model_path: modelPath,
      served_model_name: engine.args.servedModelName,
      tokenizer_path: tokenizerPath,
      is_generation: true,
      preferred_sampling_params: args.preferred_sampling_params ?? null,
      weight_version: args.weight_version ?? 'default',
      load_format: args.load_format ?? 'auto',
      reasoning_parser: engine.args.reasoningParser ?? null,
      tool_call_parser: engine.args.toolCallParser ?? null,
      disaggregation_mode: args.disaggregation_mode ?? 'null',
      ...common,
    });
  }
  sendJson(res, 200, {
    model_path: modelPath,
    tokenizer_path: tokenizerPath,
    is_generation: true,
    preferred_sampling_params: args.preferred_sampling_params ?? null,
    weight_version: args.weight_version ?? 'default',
    ...common,
    embedding: GENERATION_MODEL_EMBEDDING_PLAN,
  });
}

/**
 * `GET /server_info` (and the deprecated `/get_server_info`): every server argument under its argparse name —
 * including `api_key` in plain text, exactly as real SGLang returns it, which is why glm-ops's probes pick fields
 * out one by one — then the scheduler's info, `internal_states` (with the measured `avg_spec_accept_length` once
 * EAGLE has verified a step) and `version`.
 */
export function serverInfo(engine: Engine, res: ServerResponse, isDeprecatedPath: boolean, port: number): void {
  if (isDeprecatedPath) {
    engine.log.info(
      "Endpoint '/get_server_info' is deprecated and will be removed in a future version. Please use '/server_info' instead.",
    );
  }
  const wire = wireOf(engine);
  const launch = launchFacts(engine);
  const model = emulatedModel(engine);
  const args = resolvedServerArgs(engine, port);
  const maxReqLen = Math.min(model.contextLength - 1, engine.maxTotalNumTokens - 1);
  const startup = startupTimes(engine);
  const internal: Record<string, unknown> = {
    ...withoutKey(args, 'custom_sigquit_handler'),
    last_gen_throughput: recentThroughput(engine),
    memory_usage: memoryUsage(engine),
    startup_time: startup.scheduler,
    effective_max_running_requests_per_dp: engine.args.maxRunningRequests,
  };
  const accept = acceptLengthOf(engine);
  if (engine.isSpeculative && accept !== undefined) internal.avg_spec_accept_length = accept;
  const body: Record<string, unknown> = { ...args };
  if (wire.hasLaunchCommand) body.launch_command = ['python3', '-m', 'sglang.launch_server', ...launch.argv].join(' ');
  Object.assign(body, {
    status: 'ready',
    max_total_num_tokens: engine.maxTotalNumTokens,
    max_req_input_len: maxReqLen - 5,
    startup_time: startup.tokenizer,
    internal_states: [internal],
    version: wire.version,
  });
  if (wire.hasLaunchCommand) body.frontend = 'python';
  else body.kv_events = null;
  sendJson(res, 200, body);
}

/** `GET /get_load` (0.5.1x; logged as deprecated in favour of `/v1/loads`). */
export function getLoad(engine: Engine, res: ServerResponse): void {
  engine.log.info(
    "Endpoint '/get_load' is deprecated and will be removed in a future version. Please use '/v1/loads' instead.",
  );
  sendJson(res, 200, [
    {
      dp_rank: 0,
      num_reqs: engine.scheduler.running + engine.scheduler.queued,
      num_waiting_reqs: engine.scheduler.queued,
      num_tokens: engine.usedTokens,
      num_pending_tokens: 0,
      ts_tic: performance.now() / 1000,
    },
  ]);
}

/** `GET|POST /flush_cache`: only when idle; it also resets the scheduler's counters (the accept length among them). */
export function flushCache(engine: Engine, res: ServerResponse): void {
  const isIdle = engine.scheduler.running === 0 && engine.scheduler.queued === 0;
  let text: string;
  if (isIdle) {
    resetAcceptLength(engine);
    engine.log.scheduler('Cache flushed successfully!');
    text =
      'Cache flushed.\nPlease check backend logs for more details. ' +
      '(When there are running or waiting requests, the operation will not be performed.)\n';
  } else {
    engine.log.scheduler(
      `Cache not flushed because there are pending requests. #queue-req: ${engine.scheduler.queued}, ` +
        `#running-req: ${engine.scheduler.running}`,
    );
    text = 'Flush cache failed.\n';
  }
  res.writeHead(isIdle ? 200 : 400, { 'content-length': Buffer.byteLength(text), vary: 'Origin' });
  res.end(text);
}

/** `GET /ready` (0.5.2x): 200 once the engine takes requests, 503 before. */
export function ready(engine: Engine, res: ServerResponse): void {
  res.writeHead(engine.status === 'serving' ? 200 : 503, { 'content-length': 0, vary: 'Origin' });
  res.end();
}

/**
 * ServerArgs fields that are no command-line flag, so argparse's namespace lacks them: (field, the field it follows
 * in `dataclasses.asdict(server_args)`, its value), as recorded.
 */
const DATACLASS_ONLY_FIELDS: ReadonlyArray<[string, string, unknown]> = [
  ['custom_sigquit_handler', 'use_ray', null],
  ['stat_loggers', 'export_metrics_to_file_dir', null],
  ['uses_mamba_radix_cache', 'mamba_radix_cache_strategy', false],
];

/** 0.5.10's parser stores these under long dests; `ServerArgs.from_cli_args` copies them to the short fields. */
const DEST_TO_FIELD: Readonly<Record<string, string>> = {
  tensor_parallel_size: 'tp_size',
  pipeline_parallel_size: 'pp_size',
  attention_context_parallel_size: 'attn_cp_size',
  moe_data_parallel_size: 'moe_dp_size',
  data_parallel_size: 'dp_size',
  expert_parallel_size: 'ep_size',
};

/** The namespace as SGLang reports it: argparse's values with the ones start-up resolves filled in. */
function resolvedServerArgs(engine: Engine, port: number): Record<string, unknown> {
  const a = engine.args;
  const given = launchFacts(engine).serverArgs;
  const resolved: Record<string, unknown> = {
    tokenizer_path: given.tokenizer_path ?? a.modelPath,
    served_model_name: a.servedModelName,
    port,
    mem_fraction_static: a.memFractionStatic,
    api_key: a.apiKey ?? null,
  };
  // SGLang reports the draft tokens it runs with (steps + 1 when topk is 1), not the flag's value.
  if (engine.isSpeculative) resolved.speculative_num_draft_tokens = engine.capacity.speculative.numDraftTokens;
  const out: Record<string, unknown> = {};
  for (const [dest, value] of Object.entries(given)) {
    const key = DEST_TO_FIELD[dest] ?? dest;
    out[key] = key in resolved ? resolved[key] : value;
    for (const [field, after, fieldValue] of DATACLASS_ONLY_FIELDS) if (after === key) out[field] = fieldValue;
  }
  for (const [key, value] of Object.entries(resolved)) if (!(key in out)) out[key] = value;
  return out;
}

function withoutKey(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** S2b's start-up report, when the start-up sequence has filed one. */
function startupReportOf(engine: Engine): StartupReport | undefined {
  return (engine.metrics as unknown as { startupReport?: StartupReport }).startupReport;
}

function startupTimes(engine: Engine): { tokenizer: Record<string, unknown>; scheduler: Record<string, unknown> } {
  const report = startupReportOf(engine);
  const graphs = {
    prefill: report?.cudaGraphS.prefill ?? 0,
    decode: report?.cudaGraphS.decode ?? 0,
    target_verify: report?.cudaGraphS.target_verify ?? 0,
    draft_prefill: report?.cudaGraphS.draft_prefill ?? 0,
    draft_decode: report?.cudaGraphS.draft_decode ?? 0,
    draft_extend: report?.cudaGraphS.draft_extend ?? 0,
  };
  const scheduler = {
    load_weight: report?.loadWeightS ?? 0,
    kv_cache_allocation: report?.kvCacheAllocationS ?? 0,
    scheduler_e2e: report?.schedulerE2eS ?? 0,
    cuda_graph: graphs,
  };
  return { scheduler, tokenizer: { ...scheduler, tokenizer_e2e: report?.tokenizerE2eS ?? 0 } };
}

function memoryUsage(engine: Engine): Record<string, unknown> {
  const report = startupReportOf(engine);
  const graph = report?.graphMemoryGb;
  return {
    weight: report?.weightMemoryGb ?? 0,
    kvcache: report?.kvCacheMemoryGb ?? 0,
    startup_available: report?.availableGpuMemoryGb ?? 0,
    token_capacity: engine.maxTotalNumTokens,
    token_capacity_swa: null,
    graph: {
      prefill: graph?.prefill ?? 0,
      decode: graph?.decode ?? 0,
      target_verify: graph?.target_verify ?? 0,
      draft_prefill: graph?.draft_prefill ?? 0,
      draft_decode: graph?.draft_decode ?? 0,
      draft_extend: graph?.draft_extend ?? 0,
    },
  };
}

/**
 * The `embedding` block 0.5.17's `/model_info` resolves for a generation model (recorded verbatim on CPU and H200:
 * every switch off, the default batch-capture sizes).
 */
const GENERATION_MODEL_EMBEDDING_PLAN = {
  family: 'none',
  task: 'none',
  execution: 'none',
  attention: 'none',
  pooling: 'model_defined',
  normalize: false,
  postprocessor: 'none',
  tokenizer_special_tokens: 'model_default',
  supports_dimensions: false,
  supports_token_embeddings: false,
  supports_multimodal: false,
  requires_embedding_flag: false,
  auto_enable_embedding: false,
  bcg_eligibility: 'disabled',
  safe_disable_kv_cache: false,
  safe_disable_radix_cache: false,
  safe_disable_chunked_prefill: false,
  enabled: false,
  matryoshka_dimensions: [],
  bcg: {
    prefill_backend: 'disabled',
    enabled: false,
    capture_token_budget: 2048,
    capture_batch_sizes: [
      4, 8, 12, 16, 20, 24, 28, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
      384, 416, 448, 480, 512, 576, 640, 704, 768, 832, 896, 960, 1024, 1280, 1536, 1792, 2048,
    ],
  },
  cache: { kv_cache_disabled: false, radix_cache_disabled: false, chunked_prefill_disabled: false },
};
