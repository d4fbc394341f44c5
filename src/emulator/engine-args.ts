import { parseSglangArgv, SglangArgvError } from '../spec/sglang-argparse';
import type { SglangFlagTable } from '../spec/sglang-flags';
import { resolveFlagTable, type ResolvedFlagTable } from '../spec/sglang-version';

/**
 * The environment variable that tells the emulator which SGLang release it plays: an image tag, read like a spec's
 * `sglang.image` (`lmsysorg/sglang:v0.5.10` → the 0.5.10 flag table; a version without a table → the nearest at or
 * below, a tag without a version → the newest). The local platform sets it from the spec's image.
 */
export const EMULATOR_SGLANG_IMAGE_ENV = 'GLM_OPS_EMULATOR_SGLANG_IMAGE';

/**
 * The release played when the variable is unset: the guide's image (examples/glm-5.1-b200.yaml), so a bare
 * `glm-ops emulator ...` with the guide's launch flags starts as the guide's SGLang would.
 */
export const DEFAULT_EMULATED_SGLANG_IMAGE = 'lmsysorg/sglang:v0.5.10';

/** The subset of SGLang's server arguments the emulator acts on; every other flag is parsed, kept and logged. */
export interface EngineArgs {
  modelPath: string;
  servedModelName: string;
  host: string;
  port: number;
  tp: number;
  ep: number;
  apiKey?: string;
  trustRemoteCode: boolean;
  attentionBackend?: string;
  /** The sparse-attention decode backend: `--dsa-decode-backend`, or `--nsa-decode-backend` before 0.5.17. */
  nsaDecodeBackend?: string;
  /** The sparse-attention prefill backend: `--dsa-prefill-backend`, or `--nsa-prefill-backend` before 0.5.17. */
  nsaPrefillBackend?: string;
  moeRunnerBackend?: string;
  enableFlashinferAllreduceFusion: boolean;
  speculativeAlgorithm?: string;
  speculativeNumSteps?: number;
  speculativeEagleTopk?: number;
  speculativeNumDraftTokens?: number;
  memFractionStatic: number;
  maxRunningRequests: number;
  maxPrefillTokens: number;
  /**
   * `--max-total-tokens`: caps SGLang's KV pool (tokens, shared by every running request); unset, the pool is what
   * memory allows. The guide reads it as a per-request budget; SGLang (and the emulator) do not. The pool itself is
   * `Engine.maxTotalNumTokens`.
   */
  maxTotalTokens?: number;
  watchdogTimeoutS: number;
  /** `--context-length`: overrides the model config's context length. */
  contextLength?: number;
  enableMetrics: boolean;
  toolCallParser?: string;
  reasoningParser?: string;
  kvCacheDtype: string;
  /** `--disable-cuda-graph`, or a decode CUDA-graph backend of `disabled` (0.5.17+). */
  disableCudaGraph: boolean;
  /** `--cuda-graph-max-bs` (`--cuda-graph-max-bs-decode` from 0.5.17). */
  cudaGraphMaxBs?: number;
}

/** The result of parsing. */
export interface ParsedEngineArgv {
  args: EngineArgs;
  /** Flags the argv set that the emulator does not model (accepted, as SGLang accepts them, and logged). */
  unknownFlags: string[];
  /** Every server argument by argparse dest, defaults included, as SGLang's Namespace holds them (api_key too). */
  serverArgs: Record<string, unknown>;
  /** The release the emulator plays: the image's version, or the table's when the image names none. */
  sglangVersion: string;
  /** The flag table the argv was parsed with, and why that one. */
  flagTable: { version: string; note: string };
  /** Lines SGLang's deprecated flags log while the argv is parsed (yellow ANSI included). */
  deprecationWarnings: string[];
}

/** The flag table the emulator parses with, from GLM_OPS_EMULATOR_SGLANG_IMAGE (the guide's release when unset). */
export function emulatedFlagTable(env: NodeJS.ProcessEnv = process.env): ResolvedFlagTable {
  return resolveFlagTable(env[EMULATOR_SGLANG_IMAGE_ENV]?.trim() || DEFAULT_EMULATED_SGLANG_IMAGE);
}

/** Dests the emulator reads, in each release's naming (0.5.10 stores `--tp-size` as tensor_parallel_size). */
const MODELLED_DESTS = new Set([
  'model_path',
  'served_model_name',
  'host',
  'port',
  'tp_size',
  'tensor_parallel_size',
  'ep_size',
  'expert_parallel_size',
  'api_key',
  'trust_remote_code',
  'attention_backend',
  'nsa_decode_backend',
  'dsa_decode_backend',
  'nsa_prefill_backend',
  'dsa_prefill_backend',
  'moe_runner_backend',
  'enable_flashinfer_allreduce_fusion',
  'speculative_algorithm',
  'speculative_num_steps',
  'speculative_eagle_topk',
  'speculative_num_draft_tokens',
  'mem_fraction_static',
  'max_running_requests',
  'max_prefill_tokens',
  'max_total_tokens',
  'context_length',
  'watchdog_timeout',
  'enable_metrics',
  'tool_call_parser',
  'reasoning_parser',
  'kv_cache_dtype',
  'disable_cuda_graph',
  'cuda_graph_backend_decode',
  'cuda_graph_max_bs',
  'cuda_graph_max_bs_decode',
]);

/**
 * Parses an SGLang launch argv with the flag table of the release the emulator plays, exactly as that release's
 * argparse would (abbreviations, `--flag=value`, types, choices, the required `--model-path`). An argv SGLang rejects
 * throws SglangArgvError carrying SGLang's own stderr text.
 */
export function parseEngineArgv(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; table?: SglangFlagTable } = {},
): ParsedEngineArgv {
  const env = options.env ?? process.env;
  const resolved = emulatedFlagTable(env);
  const table = options.table ?? resolved.table;
  const columns = Number(env.COLUMNS);
  const parsed = parseSglangArgv(table, argv, Number.isInteger(columns) && columns > 0 ? { columns } : {});
  const ns = parsed.namespace;
  const pick = <T>(...dests: string[]): T | undefined => {
    for (const dest of dests) {
      const value = ns[dest];
      if (value !== undefined && value !== null) return value as T;
    }
    return undefined;
  };
  const modelPath = pick<string>('model_path') as string;
  const args: EngineArgs = {
    modelPath,
    servedModelName: pick<string>('served_model_name') ?? modelPath,
    host: pick<string>('host') ?? '127.0.0.1',
    port: pick<number>('port') ?? 30000,
    tp: pick<number>('tp_size', 'tensor_parallel_size') ?? 1,
    ep: pick<number>('ep_size', 'expert_parallel_size') ?? 1,
    trustRemoteCode: pick<boolean>('trust_remote_code') ?? false,
    enableFlashinferAllreduceFusion: pick<boolean>('enable_flashinfer_allreduce_fusion') ?? false,
    // SGLang derives these from the GPU when unset; the emulator uses the guide's B200 values.
    memFractionStatic: pick<number>('mem_fraction_static') ?? 0.88,
    maxRunningRequests: pick<number>('max_running_requests') ?? 48,
    maxPrefillTokens: pick<number>('max_prefill_tokens') ?? 16384,
    watchdogTimeoutS: pick<number>('watchdog_timeout') ?? 300,
    enableMetrics: pick<boolean>('enable_metrics') ?? false,
    kvCacheDtype: pick<string>('kv_cache_dtype') ?? 'auto',
    disableCudaGraph:
      pick<boolean>('disable_cuda_graph') === true || pick<string>('cuda_graph_backend_decode') === 'disabled',
    ...optional('maxTotalTokens', pick<number>('max_total_tokens')),
    ...optional('contextLength', pick<number>('context_length')),
    ...optional('apiKey', pick<string>('api_key')),
    ...optional('attentionBackend', pick<string>('attention_backend')),
    ...optional('nsaDecodeBackend', pick<string>('dsa_decode_backend', 'nsa_decode_backend')),
    ...optional('nsaPrefillBackend', pick<string>('dsa_prefill_backend', 'nsa_prefill_backend')),
    ...optional('moeRunnerBackend', pick<string>('moe_runner_backend')),
    ...optional('speculativeAlgorithm', pick<string>('speculative_algorithm')),
    ...optional('speculativeNumSteps', pick<number>('speculative_num_steps')),
    ...optional('speculativeEagleTopk', pick<number>('speculative_eagle_topk')),
    ...optional('speculativeNumDraftTokens', pick<number>('speculative_num_draft_tokens')),
    ...optional('toolCallParser', pick<string>('tool_call_parser')),
    ...optional('reasoningParser', pick<string>('reasoning_parser')),
    ...optional('cudaGraphMaxBs', pick<number>('cuda_graph_max_bs', 'cuda_graph_max_bs_decode')),
  };
  checkRange('--port', args.port, 0, 65535);
  checkRange('--mem-fraction-static', args.memFractionStatic, 0.01, 1);
  checkRange('--max-running-requests', args.maxRunningRequests, 1, 1_000_000);
  if (args.maxTotalTokens !== undefined) checkRange('--max-total-tokens', args.maxTotalTokens, 1, 100_000_000);
  checkRange('--watchdog-timeout', args.watchdogTimeoutS, 0.001, 10_000_000);
  const unknownFlags = [
    ...new Set(parsed.seen.filter((seen) => !MODELLED_DESTS.has(seen.flag.dest)).map((seen) => seen.option)),
  ];
  return {
    args,
    unknownFlags,
    serverArgs: ns,
    sglangVersion: options.table ? table.version : (resolved.imageVersion ?? table.version),
    flagTable: { version: table.version, note: options.table ? `SGLang ${table.version}'s flag table` : resolved.note },
    deprecationWarnings: parsed.warnings,
  };
}

function optional<K extends keyof EngineArgs>(key: K, value: EngineArgs[K] | undefined): Partial<EngineArgs> {
  return value === undefined ? {} : ({ [key]: value } as Partial<EngineArgs>);
}

/** Ranges SGLang enforces after parsing (server args validation); the emulator refuses them at start-up. */
function checkRange(name: string, value: number, min: number, max: number): void {
  if (value < min || value > max) {
    const reason = `error: argument ${name}: ${value} is out of range [${min}, ${max}]`;
    throw new SglangArgvError(reason, `${reason}\n`);
  }
}

/** True when the argv turns on EAGLE-style speculative decoding (EAGLE, EAGLE3, NEXTN all use the MTP head). */
export function isSpeculative(args: EngineArgs): boolean {
  return /^(EAGLE|EAGLE3|NEXTN)$/i.test(args.speculativeAlgorithm ?? '');
}

/** The argv rendered for the `server_args=` log line, with the API key masked. */
export function describeArgsForLog(args: EngineArgs): string {
  const shown = { ...args, apiKey: args.apiKey === undefined ? undefined : '***' };
  return Object.entries(shown)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}
