import type { OutputFeatures } from './completion-plan';
import type { Engine } from './engine';
import { readModelConfig, type ModelConfig } from './model-config';
import type { EndpointContext, PydanticError } from './openai-error';
import { DEFAULT_SGLANG_VERSION, wireProfileFor, type WireProfile } from './wire-profile';

/** What the launch decided beyond EngineArgs: argparse's full namespace, the release, the argv as given. */
export interface LaunchFacts {
  /** Every server argument under its argparse `dest`, defaults included (`api_key` among them). */
  serverArgs: Record<string, unknown>;
  sglangVersion: string;
  argv: readonly string[];
}

/** A request body as the route read it: parsed JSON, or the pydantic error FastAPI reports for it. */
export type ParsedBody = { ok: true; value: unknown } | { ok: false; error: PydanticError };

interface ServingCache {
  launch: LaunchFacts;
  wire: WireProfile;
  model?: ModelConfig;
}

const caches = new WeakMap<Engine, ServingCache>();

/** Records what the launch decided, once, when the emulator builds its engine. */
export function attachLaunchFacts(engine: Engine, launch: LaunchFacts): void {
  caches.set(engine, { launch, wire: wireProfileFor(launch.sglangVersion) });
}

function cacheOf(engine: Engine): ServingCache {
  let cache = caches.get(engine);
  if (!cache) {
    // An engine built without the launcher (unit tests): the arguments EngineArgs models.
    const launch = fallbackLaunch(engine);
    cache = { launch, wire: wireProfileFor(launch.sglangVersion) };
    caches.set(engine, cache);
  }
  return cache;
}

/** The engine's launch facts (the parsed argv's namespace and the SGLang release it speaks). */
export function launchFacts(engine: Engine): LaunchFacts {
  return cacheOf(engine).launch;
}

/** The HTTP shape of the engine's SGLang release. */
export function wireOf(engine: Engine): WireProfile {
  return cacheOf(engine).wire;
}

/** The served model's config (read once from the model folder, after start-up checked it exists). */
export function emulatedModel(engine: Engine): ModelConfig {
  const cache = cacheOf(engine);
  const contextArg = cache.launch.serverArgs.context_length;
  cache.model ??= readModelConfig(engine.args.modelPath, typeof contextArg === 'number' ? contextArg : null);
  return cache.model;
}

/** FastAPI's endpoint context for a route's validation errors (file neutralised as in the recordings). */
export function endpointContext(engine: Engine, route: 'chat' | 'completions' | 'generate'): EndpointContext {
  const line = wireOf(engine).routeLines[route];
  const file = '/site-packages/sglang/srt/entrypoints/http_server.py';
  if (route === 'chat') {
    return { file, line, functionName: 'openai_v1_chat_completions', method: 'POST', path: '/v1/chat/completions' };
  }
  if (route === 'completions') {
    return { file, line, functionName: 'openai_v1_completions', method: 'POST', path: '/v1/completions' };
  }
  return { file, line, functionName: 'generate_request', method: 'POST', path: '/generate' };
}

/**
 * The length checks of SGLang's tokenizer manager (`_validate_one_request`) and scheduler (`validate_input_length`),
 * in that order; undefined when the request fits.
 */
export function checkGenerationLength(
  contextLength: number,
  maxTotalTokens: number,
  promptTokens: number,
  maxNewTokens: number | null,
): string | undefined {
  if (promptTokens >= contextLength) {
    return `The input (${promptTokens} tokens) is longer than the model's context length (${contextLength} tokens).`;
  }
  if (maxNewTokens !== null && maxNewTokens + promptTokens > contextLength) {
    return (
      `Requested token count exceeds the model's maximum context length of ${contextLength} tokens. ` +
      `You requested a total of ${maxNewTokens + promptTokens} tokens: ${promptTokens} tokens from the input ` +
      `messages and ${maxNewTokens} tokens for the completion. Please reduce the number of tokens in the input ` +
      'messages or the completion to fit within the limit.'
    );
  }
  const maxReqInputLen = Math.min(contextLength - 1, maxTotalTokens - 1) - 5;
  if (promptTokens >= maxReqInputLen) {
    return (
      `Input length (${promptTokens} tokens) exceeds the maximum allowed length (${maxReqInputLen} tokens). ` +
      'Use a shorter input or enable --allow-auto-truncate.'
    );
  }
  return undefined;
}

/** Until the engine carries the parsed namespace: the arguments EngineArgs models, under SGLang's names. */
function fallbackLaunch(engine: Engine): LaunchFacts {
  const a = engine.args;
  return {
    sglangVersion: versionFromImage(process.env.GLM_OPS_EMULATOR_SGLANG_IMAGE) ?? DEFAULT_SGLANG_VERSION,
    argv: [],
    serverArgs: {
      model_path: a.modelPath,
      tokenizer_path: a.modelPath,
      served_model_name: a.servedModelName,
      host: a.host,
      port: a.port,
      tp_size: a.tp,
      ep_size: a.ep,
      api_key: a.apiKey ?? null,
      trust_remote_code: a.trustRemoteCode,
      attention_backend: a.attentionBackend ?? null,
      moe_runner_backend: a.moeRunnerBackend ?? 'auto',
      enable_flashinfer_allreduce_fusion: a.enableFlashinferAllreduceFusion,
      speculative_algorithm: a.speculativeAlgorithm ?? null,
      speculative_num_steps: a.speculativeNumSteps ?? null,
      speculative_eagle_topk: a.speculativeEagleTopk ?? null,
      speculative_num_draft_tokens: a.speculativeNumDraftTokens ?? null,
      mem_fraction_static: a.memFractionStatic,
      max_running_requests: a.maxRunningRequests,
      max_prefill_tokens: a.maxPrefillTokens,
      max_total_tokens: a.maxTotalTokens ?? null,
      context_length: null,
      watchdog_timeout: a.watchdogTimeoutS,
      enable_metrics: a.enableMetrics,
      tool_call_parser: a.toolCallParser ?? null,
      reasoning_parser: a.reasoningParser ?? null,
      kv_cache_dtype: a.kvCacheDtype,
      load_format: 'auto',
      disaggregation_mode: 'null',
      preferred_sampling_params: null,
      weight_version: 'default',
    },
  };
}

/** The release in an image tag (`lmsysorg/sglang:v0.5.23-cu129` → 0.5.23). */
export function versionFromImage(image: string | undefined): string | undefined {
  const match = /:v?(\d+\.\d+\.\d+)/.exec(image ?? '');
  return match?.[1];
}

/** What the engine's configuration does to the model's output (FP8 KV on Blackwell without trtllm garbles it). */
export function outputFeaturesOf(engine: Engine): OutputFeatures {
  const { args } = engine;
  return {
    isGarbled:
      args.kvCacheDtype.startsWith('fp8') && engine.gpu.isBlackwell && (args.nsaDecodeBackend ?? '') !== 'trtllm',
    seed: engine.settings.config.seed,
    naturalLength: engine.settings.config.outputTokens,
  };
}
