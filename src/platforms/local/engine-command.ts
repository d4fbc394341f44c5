import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { Spec } from '../../spec/schema';
import { cliEntry } from '../../config/paths';
import { EngineUnavailableError } from './local-platform-errors';

/** A process to start: the file, its argv and the extra environment it needs. */
export interface EngineCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** Engine-specific inputs the daemon resolved for one engine start. */
export interface EngineCommandInputs {
  /** The SGLang argv (after `python3 -m sglang.launch_server`), already holding host, port and model path. */
  sglangArgv: string[];
  kernelCacheDir: string;
}

/** Memoised: whether `python3 -c "import sglang"` works on this machine. */
let sglangImportable: boolean | undefined;

/** True when a real SGLang can be launched here. */
export function isSglangImportable(): boolean {
  sglangImportable ??= spawnSync('python3', ['-c', 'import sglang'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  return sglangImportable;
}

/**
 * Throws before any process starts when the spec's engine cannot run here: `sglang` without an importable
 * SGLang, or `emulator` without a built CLI.
 */
export function assertEngineAvailable(spec: Spec, emulatorEntry = cliEntry()): void {
  if (spec.local.engine === 'sglang') {
    if (!isSglangImportable()) {
      throw new EngineUnavailableError(
        `local.engine "sglang" needs a Python with SGLang, but \`python3 -c "import sglang"\` fails on this machine: ` +
          'install sglang, or set local.engine: emulator',
      );
    }
    return;
  }
  if (!fs.existsSync(emulatorEntry)) {
    throw new EngineUnavailableError(
      `local.engine "emulator" runs ${emulatorEntry}, which does not exist: build first with \`npx tsc -p tsconfig.build.json\``,
    );
  }
}

/**
 * The emulator settings for the spec's image: `local.emulator`, with the entry of `local.images` for this image
 * merged over it, so a drill image (one that crashes on load, as a bad upgrade would) behaves differently. The
 * spec's `model.weightsGB` goes first: the local volume holds a small fixture, and the emulator sizes its KV pool
 * against the checkpoint the spec describes (the guide's ~700 GB), as SGLang would on the real one.
 */
export function emulatorSettingsFor(spec: Spec): Record<string, unknown> {
  const perImage = spec.local.images[spec.sglang.image]?.emulator ?? {};
  return { weightsGB: spec.model.weightsGB, ...spec.local.emulator, ...perImage };
}

/** The command that serves a spec: the emulator (the CLI's `emulator` subcommand) or `python3 -m sglang.launch_server`. */
export function engineCommand(spec: Spec, inputs: EngineCommandInputs, emulatorEntry = cliEntry()): EngineCommand {
  if (spec.local.engine === 'sglang') {
    return {
      file: 'python3',
      args: ['-m', 'sglang.launch_server', ...inputs.sglangArgv],
      env: { DG_JIT_CACHE_DIR: inputs.kernelCacheDir, SGLANG_DG_CACHE_DIR: inputs.kernelCacheDir },
    };
  }
  return {
    file: process.execPath,
    args: [emulatorEntry, 'emulator', ...inputs.sglangArgv],
    env: {
      GLM_OPS_EMULATOR_TIME_SCALE: String(spec.local.timeScale),
      GLM_OPS_EMULATOR_GPU: spec.gpu.type,
      // The emulator parses the argv with this release's SGLang flag table, as the image's SGLang would.
      GLM_OPS_EMULATOR_SGLANG_IMAGE: spec.sglang.image,
      GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify(emulatorSettingsFor(spec)),
      // SGLang reads SGLANG_DG_CACHE_DIR and overwrites DG_JIT_CACHE_DIR with it; the emulator does the same.
      SGLANG_DG_CACHE_DIR: inputs.kernelCacheDir,
      DG_JIT_CACHE_DIR: inputs.kernelCacheDir,
    },
  };
}
