import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { lookupGpu } from '../spec/gpu-catalog';

/**
 * The DeepGEMM cache folder SGLang uses. Its `deep_gemm_wrapper/compile_utils` sets `DG_JIT_CACHE_DIR` to
 * `SGLANG_DG_CACHE_DIR` (default `~/.cache/deep_gemm`) when imported, so a `DG_JIT_CACHE_DIR` set by the caller is
 * overwritten: only `SGLANG_DG_CACHE_DIR` picks the folder.
 */
export function deepGemmCacheDir(env: NodeJS.ProcessEnv): string {
  return env.SGLANG_DG_CACHE_DIR?.trim() || path.join(env.HOME?.trim() || os.homedir(), '.cache', 'deep_gemm');
}

/** Inputs of the compile twin (`python3 -m sglang.compile_deep_gemm --model-path M --tp N`). */
export interface CompileDeepGemmOptions {
  modelPath: string;
  tp: number;
  /** `SGLANG_DG_CACHE_DIR` (see {@link deepGemmCacheDir}): where kernels and `manifest.json` go. */
  cacheDir: string;
  /** `GLM_OPS_EMULATOR_GPU`. */
  gpuType: string;
  /** Multiplies the compile time (`GLM_OPS_EMULATOR_TIME_SCALE`). @default 1 */
  timeScale?: number;
  /** Real compile seconds before scaling (`GLM_OPS_EMULATOR_COMPILE_SECONDS`). @default 600 */
  compileSeconds?: number;
  /** `GLM_OPS_EMULATOR_COMPILE_FAIL=1`: fail halfway, writing no manifest. */
  shouldFail?: boolean;
  /** Number of kernel files to write. @default 16 */
  kernelCount?: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** The guide §12 compile warnings, in the order SGLang tends to print them: benign noise the triage must ignore. */
export const COMPILE_NOISE_LINES = [
  'FastAPI ORJSONResponse is deprecated, use JSONResponse instead',
  'WARNING: Generation flags are not valid and may be ignored: top_p',
  'Unexpected error during package walk: cutlass.cute.experimental',
  'UserWarning: torch.Tensor return type is deprecated (flashinfer.jit)',
  'DeepGEMM enabled but scale_fmt of checkpoint is not ue8m0',
  'KV cache dtype set to fp8_e4m3 during compile_deep_gemm on SM10',
  'FP8 KV cache with no scaling factors — defaulting to 1.0',
  'Force NSA prefill to sparse MLA (MHA_ONE_SHOT disabled) on Blackwell',
  '[Gloo] Rank 0 is connected to 0 peer ranks. Expected number of connected peer ranks is : 0',
];

/** The line the guide's log triage reads as "kernels cached for future cold starts". */
export const COMPILE_SUCCESS_LINE = 'DeepGEMM / compile success';

/**
 * The digital twin of `sglang.compile_deep_gemm`: takes the configured (scaled) time, prints the guide's benign
 * warnings, writes kernel files into the cache folder and finally `manifest.json` `{ smArch, gpuType, files }`.
 * A killed or failed run leaves no manifest.
 */
export async function compileDeepGemm(options: CompileDeepGemmOptions): Promise<{ smArch: string; files: string[] }> {
  const gpu = lookupGpu(options.gpuType);
  if (!gpu)
    throw new Error(`GLM_OPS_EMULATOR_GPU "${options.gpuType}" is not a known GPU: use B200, B300, H200 or H100`);
  if (!Number.isInteger(options.tp) || options.tp < 1 || options.tp > 16)
    throw new Error(`--tp ${options.tp} must be an integer from 1 to 16`);
  if (!fs.existsSync(path.join(options.modelPath, 'config.json'))) {
    throw new Error(
      `--model-path ${options.modelPath} has no config.json: download the weights and commit + reload the volume first`,
    );
  }
  const totalMs = (options.compileSeconds ?? 600) * 1000 * (options.timeScale ?? 1);
  const kernelCount = options.kernelCount ?? 16;
  await fs.promises.mkdir(options.cacheDir, { recursive: true });
  await fs.promises.rm(path.join(options.cacheDir, 'manifest.json'), { force: true });
  options.log(`[compile_deep_gemm] model=${options.modelPath} tp=${options.tp} gpu=${gpu.type} arch=${gpu.smArch}`);
  const files: string[] = [];
  for (let index = 0; index < kernelCount; index++) {
    if (options.signal?.aborted) throw new Error('compile aborted');
    const noise = COMPILE_NOISE_LINES[index % COMPILE_NOISE_LINES.length]!;
    if (index < COMPILE_NOISE_LINES.length) options.log(noise);
    if (options.shouldFail && index === Math.floor(kernelCount / 2)) {
      options.log('RuntimeError: DeepGEMM JIT compilation failed (GLM_OPS_EMULATOR_COMPILE_FAIL)');
      throw new Error('DeepGEMM JIT compilation failed');
    }
    const name = `kernel-${gpu.smArch}-${String(index).padStart(3, '0')}.cubin`;
    const body = createHash('sha256').update(`${gpu.smArch}:${options.tp}:${index}`).digest();
    await fs.promises.writeFile(
      path.join(options.cacheDir, name),
      Buffer.concat(Array.from({ length: 512 }, () => body)),
    );
    files.push(name);
    options.log(`[compile_deep_gemm] compiled ${index + 1}/${kernelCount} (${name})`);
    await delay(totalMs / kernelCount, options.signal);
  }
  const manifest = { smArch: gpu.smArch, gpuType: gpu.type, tp: options.tp, files };
  const temp = path.join(options.cacheDir, `manifest.json.tmp-${process.pid}`);
  await fs.promises.writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.promises.rename(temp, path.join(options.cacheDir, 'manifest.json'));
  options.log(COMPILE_SUCCESS_LINE);
  return { smArch: gpu.smArch, files };
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('compile aborted'));
      },
      { once: true },
    );
  });
}
