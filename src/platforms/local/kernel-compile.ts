import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { cliEntry } from '../../config/paths';
import type { Spec } from '../../spec/schema';
import { ProgressMeter } from '../../storage/download-progress';
import { KernelManifest, smArchFor } from '../../storage/kernel-cache';
import { CompileFailedError, StorageAbortedError } from '../../storage/storage-errors';
import type { ProgressCallback } from '../platform';

/** How the local platform runs a DeepGEMM compile; the defaults run the emulator's twin from the built CLI. */
export interface KernelCompileCommand {
  /** The compile command before `--model-path DIR --tp N`. @default node lib/cli/main.js emulator-compile */
  compileCommand?: string[];
  /** Extra environment for the compile command (e.g. GLM_OPS_EMULATOR_COMPILE_SECONDS). */
  env?: NodeJS.ProcessEnv;
}

/** Output lines kept for the failure message: enough for a traceback's end, not a whole log. */
const TAIL_LINES = 20;
/** SIGTERM → SIGKILL grace when the caller aborts the compile. */
const ABORT_GRACE_MS = 2000;
const PROGRESS_EVERY_MS = 250;

/**
 * Runs the compile command against the committed weights into `cacheDir` and supervises it: progress reported on
 * the expected duration (a compile prints no byte counts), the last output lines kept for the failure, SIGTERM
 * then SIGKILL on abort. Resolves when the command exited 0; its manifest is checked by {@link readCompileManifest}.
 */
export async function runKernelCompile(
  spec: Spec,
  modelPath: string,
  cacheDir: string,
  how: KernelCompileCommand,
  options: { onProgress?: ProgressCallback; signal?: AbortSignal },
): Promise<void> {
  const command = how.compileCommand ?? [process.execPath, cliEntry(), 'emulator-compile'];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GLM_OPS_EMULATOR_COMPILE_SECONDS: String(spec.local.compile.seconds),
    ...(spec.local.compile.shouldFail ? { GLM_OPS_EMULATOR_COMPILE_FAIL: '1' } : {}),
    ...how.env,
    SGLANG_DG_CACHE_DIR: cacheDir,
    DG_JIT_CACHE_DIR: cacheDir,
    GLM_OPS_EMULATOR_GPU: spec.gpu.type,
    GLM_OPS_EMULATOR_TIME_SCALE: String(spec.local.timeScale),
  };
  const expectedMs = Number(env.GLM_OPS_EMULATOR_COMPILE_SECONDS ?? 600) * 1000 * spec.local.timeScale;
  const meter = new ProgressMeter('compile', Math.max(1, Math.round(expectedMs)), 1, options.onProgress, 0);
  const child = spawn(command[0]!, [...command.slice(1), '--model-path', modelPath, '--tp', String(spec.gpu.count)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    });
  }
  const startedMs = Date.now();
  let reported = 0;
  const ticker = setInterval(() => {
    const elapsed = Math.min(Date.now() - startedMs, Math.round(expectedMs));
    meter.addBytes(elapsed - reported);
    reported = elapsed;
  }, PROGRESS_EVERY_MS);
  const onAbort = (): void => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), ABORT_GRACE_MS).unref();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('error', (err) => {
      tail.push(err.message);
      resolve([null, null]);
    });
    child.once('close', (code, sig) => resolve([code, sig]));
  });
  clearInterval(ticker);
  options.signal?.removeEventListener('abort', onAbort);
  if (options.signal?.aborted) throw new StorageAbortedError('DeepGEMM compile');
  if (exitCode !== 0) {
    const how = signal
      ? `was killed by ${signal}`
      : exitCode === null
        ? 'could not start'
        : `exited with code ${exitCode}`;
    throw new CompileFailedError(
      `${command.join(' ')} ${how}${tail.length ? ` (last line: ${tail.at(-1)})` : ''}`,
      exitCode,
      signal,
      tail,
    );
  }
  meter.fileDone();
  meter.flush();
}

/**
 * The manifest a compile that exited 0 left in `cacheDir`, checked to be for the spec's GPU architecture;
 * CompileFailedError when it is missing, unreadable or for another SM.
 */
export async function readCompileManifest(spec: Spec, cacheDir: string): Promise<KernelManifest> {
  const file = path.join(cacheDir, 'manifest.json');
  const smArch = smArchFor(spec.gpu.type);
  let manifest: KernelManifest;
  try {
    manifest = KernelManifest.parse(JSON.parse(await fs.promises.readFile(file, 'utf8')));
  } catch {
    throw new CompileFailedError(`the compile exited 0 but left no valid ${file}`, 0, null);
  }
  if (manifest.smArch !== smArch) {
    throw new CompileFailedError(
      `the compile produced kernels for ${manifest.smArch}, ${spec.gpu.type} needs ${smArch}`,
      0,
      null,
    );
  }
  return manifest;
}
