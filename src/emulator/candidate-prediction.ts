import type { PerformanceFigures } from '../shared/performance-types';
import { TimingModel } from './emulator-config';
import { engineCapacity, type EngineCapacity } from './engine-capacity';
import { parseEngineArgv } from './engine-args';
import { EMULATED_GPU_TYPES, lookupEmulatedGpu } from './gpu-table';
import { simulateLoad, type LoadFigures } from './load-simulation';
import { clampMaxNewTokens } from './output-limits';
import { decodeProfile, type TimingConstants } from './timing-model';

/** GLM-5.1's context length (config.json `max_position_embeddings`), what the emulator serves without a config. */
const GLM51_CONTEXT_LENGTH = 202752;

/** A closed-loop load (bench_serving `--max-concurrency`, the random dataset with `ignore_eos`). */
export interface CandidateWorkload {
  concurrency: number;
  /** Requests measured (warm-up requests are not simulated: the twin has no cold caches). */
  requests: number;
  inputLen: number;
  outputLen: number;
}

/** A candidate as a spec states it: the GPUs, the checkpoint, SGLang's flags and Modal's scaling. */
export interface CandidateInputs {
  /** A GPU type of the catalog (B200, H200, …). */
  gpuType: string;
  /** GPUs per container; `--tp` when the args name none. */
  gpuCount: number;
  /** The checkpoint in GB (the spec's `model.weightsGB`, ~700 for GLM-5.1 FP8). */
  weightsGB: number;
  /** SGLang flags as `sglang.args` spells them (`max-running-requests: 48`; `false` = omitted, `true` = a switch). */
  args: Readonly<Record<string, string | number | boolean>>;
  /** Containers serving the load (Modal `max_containers`; the prediction assumes all are warm). */
  maxContainers: number;
  /** Requests one container takes at once before the next gets them (Modal `@modal.concurrent(max_inputs=…)`). */
  maxInputs: number;
  workload: CandidateWorkload;
  /** Timing constants other than the guide's (the emulator config's `timing`). */
  timing?: Partial<TimingConstants>;
  /** The SGLang image whose flag table parses the args. @default the guide's lmsysorg/sglang:v0.5.10 */
  sglangImage?: string;
}

/** What one engine of the candidate serves with. */
export interface PredictedEngine {
  /** `max_total_num_tokens`: the KV pool of each container. */
  poolTokens: number;
  /** What memory alone allows, before `--max-total-tokens` caps it. */
  profiledPoolTokens: number;
  maxRunningRequests: number;
  /** EAGLE's mean accept length per verify step; null without speculative decoding. */
  acceptLength: number | null;
  /** TPOT of one request alone, ms. */
  soloTpotMs: number;
}

/** The twin's verdict on a candidate: it OOMs while loading, or the figures its load would measure. */
export type CandidatePrediction =
  | { outcome: 'oom'; reason: string }
  | {
      outcome: 'measured';
      /** The performance gate's figures (what a trial on the twin records). */
      figures: PerformanceFigures;
      /** The simulation's own figures (queueing, KV-limited admissions, peak running). */
      load: LoadFigures;
      engine: PredictedEngine;
    };

/**
 * Predicts a candidate on the twin without running it: the emulator's own engine model (`engineCapacity`: KV pool
 * from GPU memory, weights, `--mem-fraction-static` and `--max-total-tokens`; OOM above the GPU's limit; the EAGLE
 * settings) and its timing model over the workload (`simulateLoad`, one engine per container, `maxInputs` each).
 * Pure and fast: a search's benchmark uses it as the trial oracle. The figures are the twin's, in the guide's
 * milliseconds (time scale 1); tuning on the twin tunes the twin.
 */
export function predictCandidate(inputs: CandidateInputs): CandidatePrediction {
  const gpu = lookupEmulatedGpu(inputs.gpuType);
  if (!gpu) {
    throw new RangeError(`gpuType: "${inputs.gpuType}" is not a known GPU type (${EMULATED_GPU_TYPES.join(', ')})`);
  }
  if (!Number.isInteger(inputs.gpuCount) || inputs.gpuCount < 1) {
    throw new RangeError(`gpuCount: ${inputs.gpuCount} is not a whole number of GPUs ≥ 1`);
  }
  for (const field of ['maxContainers', 'maxInputs'] as const) {
    if (!Number.isInteger(inputs[field]) || inputs[field] < 1) {
      throw new RangeError(`${field}: ${inputs[field]} is not a whole number ≥ 1`);
    }
  }
  const { args } = parseEngineArgv(candidateArgv(inputs), {
    env: inputs.sglangImage ? { GLM_OPS_EMULATOR_SGLANG_IMAGE: inputs.sglangImage } : {},
  });
  const capacity = engineCapacity(args, gpu, (inputs.weightsGB * 1e9) / 2 ** 30);
  if (capacity.failure !== undefined) return { outcome: 'oom', reason: capacity.failure };
  const constants = TimingModel.parse(inputs.timing ?? {});
  const profile = decodeProfile(constants, capacity.isSpeculative, capacity.speculative);
  const engine: PredictedEngine = {
    poolTokens: capacity.poolTokens,
    profiledPoolTokens: capacity.pool.ok ? capacity.pool.profiledTokens : 0,
    maxRunningRequests: capacity.maxRunningRequests,
    acceptLength: capacity.isSpeculative ? profile.meanAccept : null,
    soloTpotMs: profile.tpotMs,
  };
  const load = runWorkload(inputs, capacity, constants);
  return { outcome: 'measured', figures: performanceFigures(load, engine), load: load.figures, engine };
}

/** The args as the argv `buildSglangArgv` renders for them, with a stand-in model path and `--tp` filled in. */
function candidateArgv(inputs: CandidateInputs): string[] {
  const argv = ['--model-path', '/models/candidate'];
  const hasTp = ['tp', 'tp-size', 'tensor-parallel-size'].some((name) => name in inputs.args);
  if (!hasTp) argv.push('--tp', String(inputs.gpuCount));
  for (const [name, value] of Object.entries(inputs.args)) {
    if (value === false) continue;
    argv.push(`--${name}`);
    if (value !== true) argv.push(String(value));
  }
  return argv;
}

interface WorkloadRun {
  figures: LoadFigures;
  /** Summed request latencies, ms (for the concurrency the server saw). */
  latencySumMs: number;
  rejected: number;
}

function runWorkload(inputs: CandidateInputs, capacity: EngineCapacity, constants: TimingConstants): WorkloadRun {
  const { workload } = inputs;
  const limits = { contextLength: GLM51_CONTEXT_LENGTH, maxTotalTokens: capacity.poolTokens };
  const maxReqInputLen = Math.min(limits.contextLength - 1, limits.maxTotalTokens - 1) - 5;
  const outputTokens = clampMaxNewTokens(workload.outputLen, workload.inputLen, limits);
  const { requests, figures } = simulateLoad({
    constants,
    maxRunningRequests: capacity.maxRunningRequests,
    isSpeculative: capacity.isSpeculative,
    speculative: capacity.speculative,
    kvPoolTokens: capacity.poolTokens,
    containers: inputs.maxContainers,
    maxInputs: inputs.maxInputs,
    concurrency: workload.concurrency,
    // SGLang answers a prompt past max_req_input_len with a 400 before it queues; nothing of the load runs then.
    numPrompts: workload.inputLen >= maxReqInputLen ? 0 : workload.requests,
    promptTokens: workload.inputLen,
    outputTokens,
  });
  return {
    figures,
    latencySumMs: requests.reduce((sum, r) => sum + (r.endMs - r.arrivalMs), 0),
    rejected: workload.requests - requests.length,
  };
}

function performanceFigures(run: WorkloadRun, engine: PredictedEngine): PerformanceFigures {
  const f = run.figures;
  // Nothing completed (every prompt refused): the percentiles of nothing are 0, as bench_serving prints them.
  const finite = (value: number): number => (Number.isFinite(value) ? value : 0);
  const durationSec = f.durationMs / 1000;
  const sent = f.completed + run.rejected;
  return {
    ttftP50Ms: finite(f.ttftP50Ms),
    ttftP95Ms: finite(f.ttftP95Ms),
    tpotP50Ms: finite(f.tpotP50Ms),
    tpotP95Ms: finite(f.tpotP95Ms),
    outputTokensPerSec: f.outputTokPerS,
    requestsPerSec: durationSec > 0 ? f.completed / durationSec : 0,
    measuredConcurrency: f.durationMs > 0 ? run.latencySumMs / f.durationMs : 0,
    completed: f.completed,
    failed: run.rejected,
    errorRate: sent === 0 ? 0 : run.rejected / sent,
    acceptLength: engine.acceptLength,
    durationSec,
  };
}
