import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeArgsForLog } from './engine-args';
import { oomLine, type Engine } from './engine';

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
    return { ok: false, missing: 'model.safetensors.index.json (unreadable)' };
  }
  const absent = shards.find((shard) => !fs.existsSync(path.join(modelPath, shard)));
  return absent ? { ok: false, missing: absent } : { ok: true, shardCount: Math.max(1, shards.length) };
}

/** Whether `DG_JIT_CACHE_DIR` holds kernels for this SM arch (a `manifest.json` whose `smArch` matches). */
export function hasMatchingKernelCache(cacheDir: string | undefined, smArch: string): boolean {
  if (!cacheDir) return false;
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(cacheDir, 'manifest.json'), 'utf8')) as { smArch?: unknown };
    return manifest.smArch === smArch;
  } catch {
    return false;
  }
}

/**
 * Runs the engine's start-up: weight load, the guide's load-time failures (watchdog, OOM, #22359), the DeepGEMM
 * cache or JIT compile, then serving. Resolves when serving or when the engine died.
 */
export async function runStartupSequence(engine: Engine, unknownFlags: string[]): Promise<void> {
  const { args, settings, gpu, log } = engine;
  const phases = settings.config.phases;
  log.info(`server_args=ServerArgs(${describeArgsForLog(args)})`);
  if (unknownFlags.length > 0) log.warn(`emulator: accepted but not modelled: ${unknownFlags.join(' ')}`);
  log.warn('FastAPI ORJSONResponse is deprecated; use the default JSONResponse instead.');

  const folder = checkModelFolder(args.modelPath);
  if (!folder.ok) {
    engine.die({ exitCode: 1, reason: `model weights missing at ${args.modelPath}` }, [
      'Traceback (most recent call last):',
      `  File "sglang/srt/model_loader/loader.py", line 412, in load_model`,
      `FileNotFoundError: Model weights missing at ${args.modelPath} (no ${folder.missing}); ` +
        'reload the volume (model_volume.reload()) before starting the server',
    ]);
    return;
  }

  const slowFactor = engine.faults.reduce((f, fault) => (fault.kind === 'slow-load' ? f * fault.factor : f), 1);
  const loadMs = phases.weightLoadMs * slowFactor;
  const hasKernels = hasMatchingKernelCache(settings.kernelCacheDir, gpu.smArch);
  armWatchdog(engine);

  log.scheduler(`Init torch distributed begin. tp_size=${args.tp} ep_size=${args.ep} gpu=${gpu.type} (${gpu.smArch})`);
  log.scheduler('Gloo Rank 0 is connected to 0 peer ranks. Expected number of connected peer ranks is : 0');
  if (gpu.isBlackwell && args.attentionBackend === 'nsa') {
    log.warn('Force NSA prefill to use sparse MLA (i.e. disable MHA_ONE_SHOT) on Blackwell');
  }
  log.scheduler(`Load weight begin. avail mem=${(gpu.vramGiB * 0.97).toFixed(2)} GB`);
  engine.armPhaseFaults('loading');
  const steps = Math.min(folder.shardCount, 8);
  for (let step = 1; step <= steps; step++) {
    if (!(await pause(engine, loadMs / steps))) return;
    const shards = Math.round((folder.shardCount * step) / steps);
    log.scheduler(
      `Loading safetensors checkpoint shards: ${Math.round((100 * shards) / folder.shardCount)}% Completed | ${shards}/${folder.shardCount}`,
    );
  }
  log.scheduler(
    `Load weight end. type=GlmMoeDsaForCausalLM, dtype=torch.bfloat16, mem usage=${(700 / args.tp).toFixed(2)} GB.`,
  );

  if (args.memFractionStatic > gpu.maxMemFractionStatic) {
    log.scheduler(`KV cache pool allocation begin. mem_fraction_static=${args.memFractionStatic}`);
    engine.die(
      { signal: 'SIGKILL', reason: `OOM: mem-fraction-static ${args.memFractionStatic} too high for ${gpu.type}` },
      [oomLine(gpu)],
    );
    return;
  }
  log.scheduler(
    `KV Cache is allocated. #tokens: ${args.maxTotalTokens}, KV dtype: ${args.kvCacheDtype === 'auto' ? 'bf16' : args.kvCacheDtype}`,
  );
  if (args.kvCacheDtype.startsWith('fp8'))
    log.warn('Using FP8 KV cache but no scaling factors provided. Defaulting to scaling factors of 1.0.');
  if (engine.isSpeculative && args.kvCacheDtype.startsWith('fp8')) {
    log.scheduler('Init EAGLE draft worker: capture cuda graph begin.');
    engine.die({ exitCode: 1, reason: 'EAGLE with FP8 KV cache crashed on load (SGLang #22359)' }, [
      'Traceback (most recent call last):',
      '  File "sglang/srt/speculative/eagle_worker.py", line 188, in init_cuda_graphs',
      'RuntimeError: CUDA error: an illegal memory access was encountered (EAGLE + FP8 KV cache, SGLang #22359); ' +
        'omit --kv-cache-dtype to keep the BF16 KV cache',
    ]);
    return;
  }

  log.scheduler(
    'DeepGEMM enabled but the scale_fmt of checkpoint is not ue8m0. This might cause accuracy degradation on Blackwell.',
  );
  if (hasKernels) {
    log.scheduler(`DeepGEMM: loaded precompiled kernels for ${gpu.smArch} from ${settings.kernelCacheDir} (instant)`);
  } else {
    engine.status = 'compiling';
    engine.armPhaseFaults('compiling');
    log.warn(
      `Entering DeepGEMM JIT Pre-Compile session: no precompiled kernels for ${gpu.smArch} in ` +
        `${settings.kernelCacheDir ?? '(DG_JIT_CACHE_DIR unset)'}. It may take a long time (cold start 15+ min); ` +
        'run `sglang.compile_deep_gemm` once to cache them.',
    );
    for (let quarter = 1; quarter <= 4; quarter++) {
      if (!(await pause(engine, phases.deepGemmCompileMs / 4))) return;
      log.scheduler(`DeepGEMM JIT compiling kernels: ${quarter * 25}% (${gpu.smArch})`);
    }
    log.scheduler('DeepGEMM JIT Pre-Compile session finished.');
  }
  if (engine.isGone) return;
  log.raw(`INFO:     Application startup complete.`);
  log.info('The server is fired up and ready to roll!');
  engine.markServing();
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

function armWatchdog(engine: Engine): void {
  const timeoutS = engine.args.watchdogTimeoutS;
  const timer = setTimeout(
    () => {
      if (engine.status !== 'loading' && engine.status !== 'compiling') return;
      engine.die({ signal: 'SIGKILL', reason: `watchdog timeout ${timeoutS}s during ${engine.status}` }, [
        `[${new Date().toISOString().replace('T', ' ').slice(0, 19)} TP0] Scheduler watchdog timeout ` +
          `(self.watchdog_timeout=${timeoutS}, self.soft=False); raise --watchdog-timeout above the weight load (guide: 1200)`,
      ]);
    },
    engine.scaled(timeoutS * 1000),
  );
  timer.unref();
  engine.lifetime.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  engine.onReady(() => clearTimeout(timer));
}
