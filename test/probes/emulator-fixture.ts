import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';

/** The API key the probe tests serve with; tests assert it never shows up in results. */
export const TEST_API_KEY = 'sk-probe-test-3f9a1c77e2';

/** A temp model folder with just a `config.json` (enough for the emulator to load). */
export function makeModelDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-probes-model-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['GlmMoeDsaForCausalLM'] }));
  return dir;
}

/** A temp kernel cache holding a B200 (sm100) manifest, so start-up skips the JIT compile. */
export function makeKernelCacheDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-probes-dg-'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ smArch: 'sm100', gpuType: 'B200', files: [] }));
  return dir;
}

/** The healthy flags the guide prescribes; `omit` drops flags (with their values) to misconfigure the engine. */
export function healthyArgs(modelDir: string, omit: string[] = []): string[] {
  const pairs: Array<[string, string?]> = [
    ['--model-path', modelDir],
    ['--port', '0'],
    ['--served-model-name', 'glm-5.1'],
    ['--api-key', TEST_API_KEY],
    ['--tool-call-parser', 'glm47'],
    ['--reasoning-parser', 'glm45'],
    ['--enable-metrics'],
  ];
  return pairs
    .filter(([flag]) => !omit.includes(flag))
    .flatMap(([flag, value]) => (value === undefined ? [flag] : [flag, value]));
}

/** Options of a test emulator: extra flags, config (phases, faults), and whether to wait until it serves. */
export interface TestEmulatorOptions {
  omit?: string[];
  extraArgs?: string[];
  config?: Record<string, unknown>;
  shouldWaitReady?: boolean;
  logLines?: string[];
}

/** Starts an in-process emulator at time scale 0.01 with short phases; the caller closes it. */
export async function startTestEmulator(options: TestEmulatorOptions = {}): Promise<EmulatorHandle> {
  const phases = {
    weightLoadMs: 5_000,
    graphCaptureMs: 2_000,
    healthGenerateMs: 100,
    ...(options.config?.phases as object),
  };
  const config = { ...options.config, phases };
  const handle = await startEmulator(
    [...healthyArgs(makeModelDir(), options.omit), ...(options.extraArgs ?? [])],
    {
      GLM_OPS_EMULATOR_TIME_SCALE: '0.01',
      GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify(config),
      SGLANG_DG_CACHE_DIR: makeKernelCacheDir(),
    },
    { onLog: options.logLines ? (line) => options.logLines!.push(line) : undefined },
  );
  if (options.shouldWaitReady !== false) await handle.ready;
  return handle;
}
