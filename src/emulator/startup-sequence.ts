import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeArgsForLog } from './engine-args';
import type { Engine } from './engine';
import { failScheduler, oomError } from './engine-exit';
import { GRAPH_PHASES, type GraphPhase, type StartupReport } from './engine-metrics';
import { GLM51_ATTENTION, PRE_LOAD_AVAILABLE_SHARE } from './kv-pool';
import { pyRepr } from './python-repr';

/** Result of checking the model folder: the shard count, or why it cannot load. */
export type ModelFolderCheck = { ok: true; shardCount: number } | { ok: false; missing: string };

/** Checks the folder holds `config.json` and every shard its safetensors index lists (guide §18 stale volume). */
export function checkModelFolder(modelPath: string): ModelFolderCheck {
  if (!fs.existsSync(path.join(modelPath, 'config.json'))) return { ok: false, missing: 'config.json' };
  const indexPath = path.join(modelPath, 'model.safetensors.index.json');
  if (!fs.existsSync(indexPath)) return { ok: true, shardCount: 1 };
  let shards: string[];
  try {
    const index = JSON.parse(fs.readFileSync(indexPath, 'utf8')) as { weight_map?: Record<string, string> };
    shards = [...new Set(Object.values(index.weight_map ?? {}))];
  } catch {
    return { ok: false, missing: 'model.safetensors.index.json' };
  }
  const absent = shards.find((shard) => !fs.existsSync(path.join(modelPath, shard)));
  return absent ? { ok: false, missing: absent } : { ok: true, shardCount: Math.max(1, shards.length) };
}

/** Whether the DeepGEMM cache folder holds kernels for this SM arch (a `manifest.json` whose `smArch` matches). */
export function hasMatchingKernelCache(cacheDir: string | undefined, smArch: string): boolean {
  if (!cacheDir) return false;
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(cacheDir, 'manifest.json'), 'utf8')) as { smArch?: unknown };
    return manifest.smArch === smArch;
  } catch {
    return false;
  }
}

/** What the start-up needs from its runner: the server args to dump, and the port to bind once loaded. */
export interface StartupHooks {
  /** Every server argument (dest → value) for the `server_args=ServerArgs(...)` line; the API key is masked here. */
  serverArgs?: Record<string, unknown>;
  /** Lines SGLang's parser printed (deprecated flags), shown first as SGLang shows them. */
  parserWarnings?: readonly string[];
  unknownFlags: readonly string[];
  /** Binds the HTTP port; false when the bind failed (the engine is then dead). */
  openPort(): Promise<boolean>;
}

// SGLang's default prefill capture sizes (`num_tokens=[4, 8, …, 8192]`, recorded) and decode batch sizes.
const PREFILL_GRAPH_TOKENS = [
  ...[4, 8, 12, 16, 20, 24, 28, 32],
  ...range(48, 256, 16),
  ...range(288, 512, 32),
  ...range(576, 1024, 64),
  ...range(1280, 4096, 256),
  ...range(4608, 8192, 512),
];
const DECODE_GRAPH_BATCHES = [1, 2, 4, 8, 12, 16, 24, ...range(32, 256, 8)];
const SPECULATIVE_GRAPH_BATCHES = [...range(1, 8, 1), ...range(10, 32, 2), 40, 44, 48];
// How the configured capture time splits over the phases (the recordings: prefill took ~95 % on a cold cache).
const CAPTURE_SHARE: Record<GraphPhase, number> = {
  prefill: 0.8,
  decode: 0.2,
  target_verify: 0.1,
  draft_prefill: 0.05,
  draft_decode: 0.05,
  draft_extend: 0,
};

/**
 * Runs the engine's start-up in the order and wording of real SGLang 0.5.17 (recorded 2026-12-01): server args,
 * weight load, KV pool, DeepGEMM (cache or JIT), CUDA-graph capture, `Engine startup timings`, then the uvicorn
 * lines and only then the port, then SGLang's own warm-up `POST /generate` (`/health` 503) and `The server is fired
 * up and ready to roll!`. Resolves when serving or when the engine died.
 */
export async function runStartupSequence(engine: Engine, hooks: StartupHooks): Promise<void> {
  const { args, settings, gpu, log } = engine;
  const phases = settings.config.phases;
  const startedMs = Date.now();
  const unscaledSince = (ms: number): number => (Date.now() - ms) / settings.timeScale / 1000;
  for (const line of hooks.parserWarnings ?? []) log.error(line);
  if (engine.isSpeculative && engine.capacity.speculative.isDraftTokensAdjusted) {
    // ServerArgs' post-init, before the args are printed: with topk 1 the draft is a chain of steps + 1 tokens.
    log.warn('speculative_num_draft_tokens is adjusted to speculative_num_steps + 1 when speculative_eagle_topk == 1');
  }
  log.info(`server_args=ServerArgs(${renderServerArgs(engine, hooks.serverArgs)})`);
  if (hooks.unknownFlags.length > 0) log.error(`[emulator] accepted but not modelled: ${hooks.unknownFlags.join(' ')}`);

  const folder = checkModelFolder(args.modelPath);
  if (!folder.ok && folder.missing === 'config.json') {
    // The main process reads the model config before any scheduler starts: a plain Python traceback, exit 1.
    engine.die({ exitCode: 1, reason: `no config.json in ${args.modelPath}` }, [
      'Traceback (most recent call last):',
      '  File "/site-packages/sglang/srt/configs/model_config.py", line 212, in __init__',
      `OSError: ${args.modelPath} does not appear to have a file named config.json. Checkout ` +
        `'https://huggingface.co/${args.modelPath}/tree/None' for available files.`,
    ]);
    return;
  }
  log.info('Using default HuggingFace chat template with detected content format: string');
  log.scheduler('Init torch distributed begin.');
  if (args.tp > 1)
    log.scheduler('[Gloo] Rank 0 is connected to 0 peer ranks. Expected number of connected peer ranks is : 0');
  log.scheduler('Init torch distributed ends. elapsed=0.06 s, mem usage=0.09 GB');
  if (gpu.isBlackwell && args.attentionBackend === 'nsa') {
    log.schedulerWarn('Force NSA prefill to use sparse MLA (i.e. disable MHA_ONE_SHOT) on Blackwell');
  }

  const { capacity } = engine;
  const availGb = gpu.vramGiB * PRE_LOAD_AVAILABLE_SHARE;
  const weightGb = capacity.weightsPerGpuGiB;
  const loadStartedMs = Date.now();
  log.scheduler(`Load weight begin. avail mem=${availGb.toFixed(2)} GB`);
  engine.armPhaseFaults('loading');
  if (!folder.ok) {
    failScheduler(engine, {
      kind: 'exception',
      traceback: [
        '  File "/site-packages/sglang/srt/model_loader/loader.py", line 412, in load_model',
        `FileNotFoundError: [Errno 2] No such file or directory: '${path.join(args.modelPath, folder.missing)}' ` +
          `(model weights missing at ${args.modelPath})`,
      ],
    });
    return;
  }
  const slowFactor = engine.faults.reduce((f, fault) => (fault.kind === 'slow-load' ? f * fault.factor : f), 1);
  const loadMs = phases.weightLoadMs * slowFactor;
  const steps = Math.min(folder.shardCount, 8);
  const perStepS = loadMs / steps / 1000;
  for (let step = 1; step <= steps; step++) {
    if (!(await pause(engine, loadMs / steps))) return;
    const shards = Math.round((folder.shardCount * step) / steps);
    const pct = String(Math.round((100 * shards) / folder.shardCount)).padStart(3);
    log.error(
      `Multi-thread loading shards: ${pct}% Completed | ${shards}/${folder.shardCount} ` +
        `[${clock(step * perStepS)}<${clock((steps - step) * perStepS)}, ${perStepS.toFixed(2)}s/it]`,
    );
  }
  const isFp8Kv = args.kvCacheDtype.startsWith('fp8');
  if (isFp8Kv)
    log.scheduler(
      'Using FP8 KV cache but no scaling factors provided. Defaulting to scaling factors of 1.0. ' +
        'This may lead to less accurate results!',
    );
  const loadWeightS = unscaledSince(loadStartedMs);
  log.scheduler(
    `Load weight end. elapsed=${loadWeightS.toFixed(2)} s, type=GlmMoeDsaForCausalLM, ` +
      `avail mem=${(availGb - weightGb).toFixed(2)} GB, mem usage=${weightGb.toFixed(2)} GB.`,
  );
  if (engine.isSpeculative) {
    // The MTP draft head loads as a second, small model.
    log.scheduler(`Load weight begin. avail mem=${(availGb - weightGb).toFixed(2)} GB`);
    log.scheduler(
      `Load weight end. elapsed=0.50 s, type=GlmMoeDsaForCausalLMNextN, avail mem=${(availGb - weightGb - 1).toFixed(2)} GB, mem usage=1.00 GB.`,
    );
  }

  const kvStartedMs = Date.now();
  const { pool } = capacity;
  if (!pool.ok) {
    // profile_max_num_token found no room for a single token once the weights were in.
    failScheduler(engine, {
      kind: 'exception',
      traceback: [
        '  File "/site-packages/sglang/srt/model_executor/model_runner_kv_cache_mixin.py", line 52, in __post_init__',
        '    raise RuntimeError(msg)',
        `RuntimeError: ${pool.reason}`,
      ],
    });
    return;
  }
  if (pool.isFlagAboveProfiled) {
    log.scheduler(
      `max_total_tokens=${args.maxTotalTokens} is larger than the profiled value ${pool.profiledTokens}. ` +
        'Use the profiled value instead.',
    );
  }
  const isOom = capacity.isOom;
  const dtype = isFp8Kv ? 'torch.float8_e4m3fn' : 'torch.bfloat16';
  // With EAGLE the MTP draft layer keeps its own pool of the same token count (its share of the bytes per token).
  const layers = GLM51_ATTENTION.layers;
  const shares = engine.isSpeculative ? [layers, GLM51_ATTENTION.nextnLayers] : [layers];
  const totalLayers = shares.reduce((a, b) => a + b, 0);
  for (const share of shares) {
    const halfGb = (pool.poolGiB * share) / totalLayers / 2;
    log.scheduler(
      `KV Cache is allocated. dtype: ${dtype}, #tokens: ${pool.tokens}, ` +
        `K size: ${halfGb.toFixed(2)} GB, V size: ${halfGb.toFixed(2)} GB`,
    );
  }
  const kvGb = pool.poolGiB;
  const poolEndGb = isOom ? 0.24 : Math.max(0.5, availGb - weightGb - kvGb);
  log.scheduler(`Memory pool end. avail mem=${poolEndGb.toFixed(2)} GB`);
  const kvCacheAllocationS = unscaledSince(kvStartedMs);

  const hasKernels = hasMatchingKernelCache(settings.kernelCacheDir, gpu.smArch);
  log.schedulerWarn(
    'DeepGEMM enabled but the scale_fmt of checkpoint is not ue8m0. This might cause accuracy degradation on Blackwell.',
  );
  if (hasKernels) {
    log.scheduler(`DeepGEMM: loaded precompiled kernels for ${gpu.smArch} from ${settings.kernelCacheDir} (instant)`);
  } else {
    engine.status = 'compiling';
    engine.armPhaseFaults('compiling');
    log.schedulerWarn(
      `Entering DeepGEMM JIT Pre-Compile session: no precompiled kernels for ${gpu.smArch} in ` +
        `${settings.kernelCacheDir} (SGLANG_DG_CACHE_DIR). It may take a long time (cold start 15+ min); ` +
        'run `sglang.compile_deep_gemm` once to cache them.',
    );
    for (let quarter = 1; quarter <= 4; quarter++) {
      if (!(await pause(engine, phases.deepGemmCompileMs / 4))) return;
      log.scheduler(`DeepGEMM JIT compiling kernels: ${quarter * 25}% (${gpu.smArch})`);
    }
    log.scheduler('DeepGEMM JIT Pre-Compile session finished.');
  }

  if (isOom) {
    // Recorded (--mem-fraction-static 0.99): the pool takes the headroom, then the graph buffers do not fit.
    failScheduler(engine, { kind: 'exception', traceback: oomError(gpu, 'graph-buffers') });
    return;
  }
  engine.status = 'capturing';
  const captured = await captureCudaGraphs(engine, poolEndGb);
  if (!captured) return;

  const maxRunning = args.maxRunningRequests;
  log.scheduler(
    `max_total_num_tokens=${pool.tokens}, chunked_prefill_size=8192, max_prefill_tokens=${args.maxPrefillTokens}, ` +
      `max_running_requests=${maxRunning}, context_len=${engine.contextLength}, ` +
      `available_gpu_mem=${captured.availGb.toFixed(2)} GB`,
  );
  log.scheduler(
    'Tree cache initialized: source=default impl=RadixCache hybrid_swa=False hybrid_ssm=False hierarchical=False streaming_wrapped=False',
  );
  const schedulerE2eS = unscaledSince(loadStartedMs);
  const tokenizerE2eS = unscaledSince(startedMs);
  const timings = GRAPH_PHASES.map((phase) => `${phase}=${captured.seconds[phase].toFixed(2)}`).join(', ');
  log.info(
    `Engine startup timings (s): load_weight=${loadWeightS.toFixed(2)}, kv_cache_allocation=${kvCacheAllocationS.toFixed(2)}, ` +
      `scheduler_e2e=${schedulerE2eS.toFixed(2)}, cuda_graph={${timings}}, tokenizer_e2e=${tokenizerE2eS.toFixed(2)}`,
  );
  const report: StartupReport = {
    loadWeightS,
    kvCacheAllocationS,
    schedulerE2eS,
    tokenizerE2eS,
    cudaGraphS: captured.seconds,
    graphMemoryGb: captured.memoryGb,
    availableGpuMemoryGb: captured.availGb,
    weightMemoryGb: weightGb,
    kvCacheMemoryGb: kvGb,
  };
  engine.metrics.setStartupReport(report);
  if (engine.isGone) return;

  log.uvicorn(`Started server process [${process.pid}]`);
  log.uvicorn('Waiting for application startup.');
  log.uvicorn('Application startup complete.');
  if (!(await hooks.openPort())) return;
  await warmUp(engine);
}

/**
 * SGLang's own warm-up once the port is open: `GET /model_info`, then a `POST /generate` whose first forward is
 * slow (first use of the kernels: 9 s on the recorded H200, 1 s on CPU), while `/health` answers an empty 503.
 */
async function warmUp(engine: Engine): Promise<void> {
  const { log } = engine;
  engine.status = 'warming';
  const warmupMs = engine.settings.config.phases.serverWarmupMs;
  const modelInfo = engine.metrics.httpRequestStarted('/model_info', 'GET');
  log.access(`127.0.0.1:${randomInt(32_768, 61_000)}`, 'GET /model_info HTTP/1.1', 200, 'OK');
  modelInfo(200);
  const generate = engine.metrics.httpRequestStarted('/generate', 'POST');
  if (!(await pause(engine, warmupMs))) return;
  engine.logPrefillBatch(18, 0, engine.scaled(warmupMs) / 1000);
  log.access(`127.0.0.1:${randomInt(32_768, 61_000)}`, 'POST /generate HTTP/1.1', 200, 'OK');
  generate(200);
  // Recorded: the warm-up is request 1 of num_requests_total (18 prompt tokens, 8 generated, not streamed).
  const seconds = engine.scaled(warmupMs) / 1000;
  engine.metrics.observeFinished({
    isStreaming: false,
    promptTokens: 18,
    cachedTokens: 0,
    completionTokens: 8,
    ttftS: seconds,
    e2eS: seconds,
    queueS: 0,
  });
  if (engine.isGone) return;
  log.info('The server is fired up and ready to roll!');
  engine.markServing();
}

/**
 * CUDA-graph capture at start-up, as SGLang does it (not on first requests): target prefill sizes, then decode
 * batch sizes (or, with EAGLE, target verify and the draft's prefill and decode). `--disable-cuda-graph` skips it.
 */
async function captureCudaGraphs(
  engine: Engine,
  availGb: number,
): Promise<{ seconds: Record<GraphPhase, number>; memoryGb: Record<GraphPhase, number>; availGb: number } | undefined> {
  const { args, log } = engine;
  const seconds = Object.fromEntries(GRAPH_PHASES.map((p) => [p, 0])) as Record<GraphPhase, number>;
  const memoryGb = { ...seconds };
  if (!engine.hasCudaGraphs) {
    log.scheduler(
      "Disable prefill CUDA graph because cuda_graph_config resolved prefill.backend='disabled' " +
        '(e.g. via --cuda-graph-backend-prefill=disabled or auto-disable rules).',
    );
    return { seconds, memoryGb, availGb };
  }
  const totalMs = engine.settings.config.phases.graphCaptureMs;
  const batches = (engine.isSpeculative ? SPECULATIVE_GRAPH_BATCHES : DECODE_GRAPH_BATCHES).filter(
    (bs) => bs <= engine.maxGraphBatch,
  );
  const plan: Array<{ phase: GraphPhase; title: string; detail: string; sizes: number; memGb: number }> = [
    {
      phase: 'prefill',
      title: 'target prefill',
      detail: `backend=breakable, num_tokens=[${PREFILL_GRAPH_TOKENS.join(', ')}]`,
      sizes: PREFILL_GRAPH_TOKENS.length,
      memGb: 0.14,
    },
  ];
  if (engine.isSpeculative) {
    const perReq = args.speculativeNumDraftTokens ?? 4;
    plan.push(
      {
        phase: 'target_verify',
        title: 'target verify',
        detail: `backend=full, num_tokens_per_req=${perReq}, bs=[${batches.join(', ')}]`,
        sizes: batches.length,
        memGb: 0.03,
      },
      {
        phase: 'draft_prefill',
        title: 'draft prefill',
        detail: `backend=breakable, num_tokens=[${PREFILL_GRAPH_TOKENS.join(', ')}]`,
        sizes: PREFILL_GRAPH_TOKENS.length,
        memGb: 0.14,
      },
      {
        phase: 'draft_decode',
        title: 'draft decode',
        detail: `backend=full, num_tokens_per_req=1, bs=[${batches.join(', ')}]`,
        sizes: batches.length,
        memGb: 0.04,
      },
    );
  } else {
    plan.push({
      phase: 'decode',
      title: 'target decode',
      detail: `backend=full, num_tokens_per_req=1, bs=[${batches.join(', ')}]`,
      sizes: batches.length,
      memGb: 0.03,
    });
  }
  const shareSum = plan.reduce((sum, step) => sum + CAPTURE_SHARE[step.phase], 0);
  let avail = availGb;
  for (const step of plan) {
    const stepMs = (totalMs * CAPTURE_SHARE[step.phase]) / shareSum;
    const isPrefill = step.detail.includes('num_tokens=');
    log.scheduler(`Capture ${step.title} CUDA graph begin. ${step.detail}, avail mem=${avail.toFixed(2)} GB`);
    if (engine.isSpeculative && step.phase === 'target_verify' && engine.args.kvCacheDtype.startsWith('fp8')) {
      // The guide's SGLang #22359 (FP8 KV cache with EAGLE); not reproduced by the recordings, kept from the guide.
      failScheduler(engine, {
        kind: 'exception',
        traceback: [
          '  File "/site-packages/sglang/srt/speculative/eagle_worker_v2.py", line 188, in init_cuda_graphs',
          'RuntimeError: CUDA error: an illegal memory access was encountered (EAGLE + FP8 KV cache, SGLang #22359); ' +
            'omit --kv-cache-dtype to keep the BF16 KV cache',
        ],
      });
      return undefined;
    }
    if (!(await pause(engine, stepMs))) return undefined;
    const unit = isPrefill ? 'Capturing num tokens' : 'Capturing batches';
    log.error(
      `${unit} (${isPrefill ? 'num_tokens=8192' : `bs=${batches[0] ?? 1}`} avail_mem=${avail.toFixed(2)} GB): 100%|██████████| ` +
        `${step.sizes}/${step.sizes} [${clock(stepMs / 1000)}<00:00, ${(step.sizes / Math.max(0.001, stepMs / 1000)).toFixed(2)}it/s]`,
    );
    avail -= step.memGb;
    seconds[step.phase] = stepMs / 1000;
    memoryGb[step.phase] = step.memGb;
    log.scheduler(
      `Capture ${step.title} CUDA graph end. elapsed=${(stepMs / 1000).toFixed(2)} s, mem usage=${step.memGb.toFixed(2)} GB, avail mem=${avail.toFixed(2)} GB.`,
    );
  }
  return { seconds, memoryGb, availGb: avail };
}

function renderServerArgs(engine: Engine, serverArgs: Record<string, unknown> | undefined): string {
  if (!serverArgs) return describeArgsForLog(engine.args);
  // Real SGLang prints api_key in plain text here; the emulator never logs a secret.
  return Object.entries(serverArgs)
    .map(([key, value]) => `${key}=${key.endsWith('api_key') && value ? "'***'" : pyRepr(value)}`)
    .join(', ');
}

async function pause(engine: Engine, unscaledMs: number): Promise<boolean> {
  try {
    await engine.sleepScaled(unscaledMs);
  } catch {
    return false;
  }
  // A process hang during start-up freezes the sequence where it is.
  while (engine.hang === 'process' && !engine.isGone) {
    try {
      await engine.sleepScaled(1_000);
    } catch {
      return false;
    }
  }
  return !engine.isGone;
}

/** tqdm's `MM:SS` clock. */
function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(whole / 60)).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
}

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}
