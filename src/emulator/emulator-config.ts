import * as fs from 'node:fs';
import * as z from 'zod';
import { deepGemmCacheDir } from './compile-deep-gemm';

const Ms = z.number().min(0);

/** Which start-up or serving phase a fault fires in. */
export const FaultPhase = z.enum(['loading', 'compiling', 'serving']);
export type FaultPhase = z.infer<typeof FaultPhase>;

/** Crash the engine: at a phase (after `afterMs` into it) or after N chat requests; exit code or signal. */
export const CrashFault = z.strictObject({
  kind: z.literal('crash'),
  at: FaultPhase.default('serving'),
  /** Unscaled milliseconds into the phase. @default 0 */
  afterMs: Ms.default(0),
  /** Serving only: crash when this many chat requests have arrived (the Nth one dies with the engine). */
  afterRequests: z.number().int().positive().optional(),
  /** Exit code for `process.exit` (e.g. 137); ignored when `signal` is set. */
  exitCode: z.number().int().min(0).max(255).optional(),
  /** Signal the process sends itself (SIGKILL = Python's returncode -9). */
  signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGSEGV', 'SIGABRT', 'SIGQUIT']).optional(),
  /**
   * A CUDA OOM inside the scheduler: SGLang's traceback with PyTorch's `torch.OutOfMemoryError` line, then its own
   * exit path (SIGQUIT, `kill_process_tree`, returncode -9). `exitCode`/`signal` are ignored then.
   */
  oom: z.boolean().default(false),
  /**
   * Which process dies: `server` (default) = the whole server process at once (a platform kill, the code or
   * signal given); `scheduler` = SGLang's scheduler child is SIGKILLed (the host OOM killer, `kill -9`), which the
   * server reports as `Subprocess scheduler_0 (pid=…) crashed with exit code -9` before killing itself (-9).
   */
  target: z.enum(['server', 'scheduler']).default('server'),
});

/** Stop answering: `process` = nothing answers, not even /health; `scheduler` = HTTP lives, generation stalls. */
export const HangFault = z.strictObject({
  kind: z.literal('hang'),
  at: FaultPhase.default('serving'),
  afterMs: Ms.default(0),
  afterRequests: z.number().int().positive().optional(),
  mode: z.enum(['process', 'scheduler']).default('process'),
});

/** Answer the first N chat requests with a 5xx (the guide's "warmup requests fail with 500"). */
export const HttpErrorFault = z.strictObject({
  kind: z.literal('http-error'),
  firstRequests: z.number().int().positive(),
  status: z.number().int().min(500).max(599).default(500),
});

/** Multiply the weight-load time (slow volume I/O). */
export const SlowLoadFault = z.strictObject({
  kind: z.literal('slow-load'),
  factor: z.number().min(1).max(1000),
});

/** One injected fault. */
export const Fault = z.discriminatedUnion('kind', [CrashFault, HangFault, HttpErrorFault, SlowLoadFault]);
export type Fault = z.infer<typeof Fault>;

/** Unscaled durations (time scale 1 = the guide's real values). */
export const PhaseDurations = z.strictObject({
  /** Weight load from the volume (guide §7: 3–5 min). @default 240000 */
  weightLoadMs: Ms.default(240_000),
  /** DeepGEMM JIT compile when no matching cache exists (guide §18: cold start 15+ min). @default 480000 */
  deepGemmCompileMs: Ms.default(480_000),
  /**
   * CUDA-graph capture at start-up, all phases together (SGLang captures before it opens the port, not on first
   * requests: 67.5 s prefill + 3.3 s decode on the recorded H200 with a cold Triton cache). 0 with
   * `--disable-cuda-graph`. @default 40000
   */
  graphCaptureMs: Ms.default(40_000),
  /**
   * SGLang's own warm-up `POST /generate` once the port is open, while `/health` answers 503 (first use of the
   * kernels: 9 s on the recorded H200, 1.1 s on CPU). @default 10000
   */
  serverWarmupMs: Ms.default(10_000),
  /** Time /health's 1-token generation takes (SGLang's health loop sleeps 1 s before checking). @default 1000 */
  healthGenerateMs: Ms.default(1_000),
  /** SGLANG_HEALTH_CHECK_TIMEOUT: a wedged scheduler fails /health after this. @default 20000 */
  healthCheckTimeoutMs: Ms.default(20_000),
});

/**
 * The timing model. Each constant names the section of "GLM-5.1 FP8 - Tune & Operate" it comes from; the README's
 * "Timing under load" table shows the curve they give.
 */
export const TimingModel = z.strictObject({
  /** TTFT at low load for a short prompt, before prefill length is added (§10: ~246 ms warm). @default 240 */
  ttftBaseMs: Ms.default(240),
  /** Prefill cost per prompt token (1k tokens ≈ +6 ms, so ~246 ms for a typical prompt, §10). @default 0.006 */
  prefillMsPerToken: Ms.default(0.006),
  /** TPOT with EAGLE at low load (§2, §10: ~7.7 ms). @default 7.7 */
  tpotEagleMs: Ms.default(7.7),
  /** TPOT without speculative decoding (§2, §10: ~20 ms). @default 20 */
  tpotPlainMs: Ms.default(20),
  /**
   * Mean EAGLE accept length, tokens per verify step, at the guide's `--speculative-num-steps 3` (§2, §10: ~3.5,
   * "consistent across hardware"). Other step counts follow from the per-position acceptance rate it implies (see
   * `decodeProfile`). @default 3.5
   */
  acceptLength: z.number().min(1).max(16).default(3.5),
  /**
   * TPOT grows by this fraction per extra running request: 48 running → 10.4 ms, 48 / 10.4 ms ≈ 4,600 tok/s
   * aggregate with EAGLE (§2, §10) and ≈ 1,750 without (§2). @default 0.0075
   */
  tpotLoadSlope: z.number().min(0).max(1).default(0.0075),
  /**
   * Running requests one EAGLE verify pass takes (§1: "`--max-running-requests 48` — EAGLE verifier queue grows past
   * this"; §10: "Cap prevents TTFT inflation"). Past it the verify work queues: TTFT and TPOT inflate. Only with
   * speculative decoding; 0 turns the verify queue off. @default 48
   */
  verifyBatchCap: z.number().int().min(0).default(48),
  /**
   * TTFT added per running request past `verifyBatchCap` (a new request's prefill waits behind the verify backlog).
   * §18 "TTFT spikes to 2-3 seconds under load (was ~250ms)": at twice the cap (96 running) TTFT ≈ 246 + 48 × 47 ≈
   * 2.5 s, the middle of that band. @default 47
   */
  verifyQueueMsPerRequest: Ms.default(47),
  /**
   * Extra TPOT fraction per running request past `verifyBatchCap` (the verify pass no longer fits one forward). 96
   * running → 19.2 ms: ≈ 5,000 tok/s aggregate, a little above the cap's 4,600 (§4: "you can experiment above 48
   * running requests, and watch TTFT percentiles"), 52 tok/s per user (§10: 30-75, "lower when batched").
   * @default 0.0163
   */
  tpotOverCapSlope: z.number().min(0).max(1).default(0.0163),
  /**
   * Wall-clock ms per guide ms for request timing alone (TTFT, TPOT, the verify backlog), when it should differ from
   * GLM_OPS_EMULATOR_TIME_SCALE: a local rollout can start up at 0.01 and still serve at the guide's real latencies
   * (1), so a performance gate measures figures it can hold to the guide's. Unset: the process's time scale.
   */
  timeScale: z.number().positive().max(100).optional(),
});

/** Emulator-only settings, from GLM_OPS_EMULATOR_CONFIG (file) or GLM_OPS_EMULATOR_CONFIG_JSON (inline). */
export const EmulatorConfig = z.strictObject({
  seed: z.number().int().default(0),
  phases: PhaseDurations.default(PhaseDurations.parse({})),
  timing: TimingModel.default(TimingModel.parse({})),
  faults: z.array(Fault).default([]),
  /**
   * The checkpoint's size in GB (10^9 bytes) the KV pool is sized against, over `--tp` GPUs: the stand-in for a real
   * checkpoint when the model folder holds a small fixture (the local platform passes the spec's `model.weightsGB`,
   * the guide's ~700 GB). Unset: the `.safetensors` bytes in the model folder.
   */
  weightsGB: z.number().positive().max(100_000).optional(),
  /** Largest accepted request body; larger ones get 413. @default 8388608 */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  /** Natural (EOS) output length range when `max_tokens` does not cut it first. */
  outputTokens: z
    .strictObject({ min: z.number().int().min(1), max: z.number().int().min(1) })
    .default({ min: 24, max: 160 }),
  /** Adds `emulator_timing` (the model's TTFT/TPOT for the request) to responses, for benchmarks. */
  reportTiming: z.boolean().default(false),
  /** A control endpoint (`/emulator/faults`, `/emulator/state`), behind the API key; off unless set. */
  control: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
});
export type EmulatorConfig = z.output<typeof EmulatorConfig>;

/** Everything the emulator reads from the environment. */
export interface EmulatorSettings {
  timeScale: number;
  gpuType: string;
  /** The DeepGEMM cache folder SGLang uses: `SGLANG_DG_CACHE_DIR`, else `~/.cache/deep_gemm`. */
  kernelCacheDir: string;
  config: EmulatorConfig;
}

/** A bad emulator setting; the process exits 2 with this message. */
export class EmulatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorConfigError';
  }
}

/** Reads and validates the emulator's environment variables and JSON config. */
export function loadEmulatorSettings(env: NodeJS.ProcessEnv): EmulatorSettings {
  const scaleText = env.GLM_OPS_EMULATOR_TIME_SCALE?.trim();
  const timeScale = scaleText ? Number(scaleText) : 1;
  if (!Number.isFinite(timeScale) || timeScale <= 0 || timeScale > 100) {
    throw new EmulatorConfigError(
      `GLM_OPS_EMULATOR_TIME_SCALE: "${scaleText}" is not a number in (0, 100]; use 1 for real durations, 0.01 for tests`,
    );
  }
  const raw = readRawConfig(env);
  const parsed = EmulatorConfig.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EmulatorConfigError(`emulator config invalid: ${detail}`);
  }
  if (parsed.data.outputTokens.min > parsed.data.outputTokens.max) {
    throw new EmulatorConfigError('emulator config invalid: outputTokens.min must not exceed outputTokens.max');
  }
  return {
    timeScale,
    gpuType: env.GLM_OPS_EMULATOR_GPU?.trim() || 'B200',
    kernelCacheDir: deepGemmCacheDir(env),
    config: parsed.data,
  };
}

function readRawConfig(env: NodeJS.ProcessEnv): unknown {
  const inline = env.GLM_OPS_EMULATOR_CONFIG_JSON?.trim();
  const file = env.GLM_OPS_EMULATOR_CONFIG?.trim();
  let text = '{}';
  let source = 'GLM_OPS_EMULATOR_CONFIG_JSON';
  if (inline) text = inline;
  else if (file) {
    source = `GLM_OPS_EMULATOR_CONFIG (${file})`;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new EmulatorConfigError(`${source}: cannot read the file (${(err as Error).message}); fix the path`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new EmulatorConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
}
