import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import * as z from 'zod';
import { compileDeepGemm } from '../../emulator/compile-deep-gemm';

// SGLang's compile_deep_gemm, like the server, writes where SGLANG_DG_CACHE_DIR points (it overwrites
// DG_JIT_CACHE_DIR with it); the twin requires it set rather than defaulting to ~/.cache/deep_gemm.
const CompileEnv = z.object({
  SGLANG_DG_CACHE_DIR: z
    .string()
    .trim()
    .min(1, 'SGLANG_DG_CACHE_DIR must name the kernel cache folder (SGLang overwrites DG_JIT_CACHE_DIR with it)'),
  GLM_OPS_EMULATOR_GPU: z.string().trim().min(1).default('B200'),
  GLM_OPS_EMULATOR_TIME_SCALE: z.coerce.number().positive().max(10).default(1),
  GLM_OPS_EMULATOR_COMPILE_SECONDS: z.coerce.number().nonnegative().max(86_400).default(600),
  GLM_OPS_EMULATOR_COMPILE_FAIL: z.stringbool().default(false),
});

/** `glm-ops emulator-compile`: the twin of `python3 -m sglang.compile_deep_gemm`. */
export function registerEmulatorCompileCommand(program: Command): void {
  program
    .command('emulator-compile')
    .description(
      'write DeepGEMM "kernels" and manifest.json into SGLANG_DG_CACHE_DIR (twin of `python3 -m sglang.compile_deep_gemm`)',
    )
    .requiredOption('--model-path <dir>', 'the weights folder')
    .option('--tp <n>', 'tensor parallel size', tpNumber, 8)
    .option('--revision <rev>', 'accepted for parity with sglang; the weights folder is already pinned')
    .action(async (options: { modelPath: string; tp: number }) => {
      const emptyAsUnset = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''));
      const parsed = CompileEnv.safeParse(emptyAsUnset);
      if (!parsed.success) throw new Error(z.prettifyError(parsed.error).replace(/\n+/g, '; '));
      const env = parsed.data;
      const controller = new AbortController();
      process.once('SIGTERM', () => controller.abort());
      await compileDeepGemm({
        modelPath: path.resolve(options.modelPath),
        tp: options.tp,
        cacheDir: path.resolve(env.SGLANG_DG_CACHE_DIR),
        gpuType: env.GLM_OPS_EMULATOR_GPU,
        timeScale: env.GLM_OPS_EMULATOR_TIME_SCALE,
        compileSeconds: env.GLM_OPS_EMULATOR_COMPILE_SECONDS,
        shouldFail: env.GLM_OPS_EMULATOR_COMPILE_FAIL,
        log: (line) => console.log(line),
        signal: controller.signal,
      });
    });
}

function tpNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 16)
    throw new InvalidArgumentError(`--tp must be an integer 1..16, got "${value}"`);
  return parsed;
}
