import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { buildSglangArgv } from '../../src/spec/argv-builder';
import { REPO_ROOT } from './repo-files';
import { loadExampleSpec } from './test-spec';
import { builtCliEntry } from './built-lib';
import { waitFor } from './wait-for';

/** A temp folder with `config.json` and, optionally, a safetensors index and its shards. */
export function makeModelDir(options: { shards?: number; dropShard?: boolean; noConfig?: boolean } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-emu-model-'));
  if (!options.noConfig) fs.writeFileSync(path.join(dir, 'config.json'), '{"architectures":["GlmMoeDsaForCausalLM"]}');
  const shards = options.shards ?? 0;
  if (shards > 0) {
    const names = Array.from(
      { length: shards },
      (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`,
    );
    const weightMap = Object.fromEntries(names.map((n, i) => [`layer.${i}.weight`, n]));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    names.forEach((n, i) => {
      if (!(options.dropShard && i === shards - 1)) fs.writeFileSync(path.join(dir, n), 'x');
    });
  }
  return dir;
}

/** A DeepGEMM cache folder whose manifest names an SM arch. */
export function makeKernelCache(smArch = 'sm100'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-emu-dg-'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ smArch, gpuType: 'B200' }));
  return dir;
}

/**
 * The argv the spec builder renders for the guide's production spec (examples/glm-5.1-b200.yaml), pointed at a
 * temp model folder and a free port: the emulator is always driven by what glm-ops would really launch.
 */
export function guideArgv(modelDir: string, extra: string[] = []): string[] {
  const argv = buildSglangArgv(loadExampleSpec('examples/glm-5.1-b200.yaml'), {
    modelPath: modelDir,
    host: '127.0.0.1',
  });
  // The builder renders a real port; the emulator also takes 0 (a free one), which parallel tests need.
  argv[argv.indexOf('--port') + 1] = '0';
  return [...argv, ...extra];
}

/** Removes a flag (and its value, unless it is a switch) from an argv. */
export function withoutFlag(argv: string[], flag: string, isSwitch = false): string[] {
  const at = argv.indexOf(flag);
  if (at === -1) return argv;
  return [...argv.slice(0, at), ...argv.slice(at + (isSwitch ? 1 : 2))];
}

/** Replaces a flag's value. */
export function withFlag(argv: string[], flag: string, value: string): string[] {
  const at = argv.indexOf(flag);
  if (at === -1) return [...argv, flag, value];
  const copy = [...argv];
  copy[at + 1] = value;
  return copy;
}

/** An environment with a tiny time scale, a matching kernel cache and the given emulator config. */
export function fastEnv(config: Record<string, unknown> = {}, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    GLM_OPS_EMULATOR_TIME_SCALE: '0.001',
    // The guide's image: its SGLang (0.5.10) still spells the NSA flags the way the b200 example does.
    GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.10',
    SGLANG_DG_CACHE_DIR: makeKernelCache(),
    GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify({ phases: { graphCaptureMs: 0 }, ...config }),
    ...extra,
  };
}

/** The API key the probe tests serve with; tests assert it never shows up in results. */
export const TEST_API_KEY = 'sk-probe-test-3f9a1c77e2';

/** The flags a probe needs the engine to have (not the guide's whole argv); `omit` drops flags with their values. */
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

/** Options of a probe-test emulator: extra flags, config (phases, faults), and whether to wait until it serves. */
export interface TestEmulatorOptions {
  omit?: string[];
  extraArgs?: string[];
  config?: Record<string, unknown>;
  shouldWaitReady?: boolean;
  logLines?: string[];
}

/**
 * Starts an in-process emulator with {@link healthyArgs} at time scale 0.01 and short phases (a start-up the probes
 * can poll through); the caller closes it.
 */
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
      SGLANG_DG_CACHE_DIR: makeKernelCache(),
    },
    { onLog: options.logLines ? (line) => options.logLines!.push(line) : undefined },
  );
  if (options.shouldWaitReady !== false) await handle.ready;
  return handle;
}

/** An in-process emulator plus its captured log lines. */
export interface RunningEmulator extends EmulatorHandle {
  logs: string[];
}

/** Starts an in-process emulator and collects its logs. */
export async function launch(argv: string[], env: NodeJS.ProcessEnv): Promise<RunningEmulator> {
  const logs: string[] = [];
  const handle = await startEmulator(argv, env, { onLog: (line) => logs.push(line) });
  return Object.assign(handle, { logs });
}

/** Starts an in-process emulator and waits until it serves. */
export async function launchReady(argv: string[], env: NodeJS.ProcessEnv): Promise<RunningEmulator> {
  const emulator = await launch(argv, env);
  await Promise.race([
    emulator.ready,
    emulator.exited.then((exit) => {
      throw new Error(`emulator exited during start-up: ${exit.reason}\n${emulator.logs.join('\n')}`);
    }),
  ]);
  return emulator;
}

/** Parsed JSON of a response; tests walk OpenAI-shaped bodies freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
export type LooseJson = any;

/** POSTs a chat completion with the API key and returns status and parsed JSON. */
export async function chat(url: string, body: unknown, apiKey?: string): Promise<{ status: number; json: LooseJson }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Reads one unlabelled-by-us series value from a Prometheus text body. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Waits until the emulator's /health answers 200 (a refused connection counts as not yet), under {@link waitFor}'s hang guard. */
export async function waitForHealth(url: string): Promise<void> {
  const status = (): Promise<number> =>
    fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
  await waitFor(async () => (await status()) === 200, { what: `${url}/health answering 200`, pollMs: 20 });
}

/** A child-process emulator: its output so far, its port once printed, and how it ended. */
export interface ChildEmulator {
  child: ChildProcess;
  output: () => string;
  url: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/**
 * Runs the emulator as a real child process, `glm-ops emulator <argv>` from lib/ (as the local platform launches
 * engines), reading the port from the Uvicorn line.
 */
export function spawnEmulator(argv: string[], env: NodeJS.ProcessEnv): ChildEmulator {
  const child = spawn(process.execPath, [builtCliEntry(), 'emulator', ...argv], {
    env: { PATH: process.env.PATH, NODE_PATH: path.join(REPO_ROOT, 'node_modules'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let resolveUrl!: (url: string) => void;
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  const onData = (data: Buffer): void => {
    output += data.toString();
    const match = /Uvicorn running on (http:\/\/[^\s]+)/.exec(output);
    if (match) resolveUrl(match[1] as string);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    url,
    exit,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
