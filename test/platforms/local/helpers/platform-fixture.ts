import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cliEntry, projectRoot } from '../../../../src/config/paths';
import { secretEnvVar } from '../../../../src/config/secrets';
import { parseSpecText } from '../../../../src/spec/parse-spec';
import type { Spec } from '../../../../src/spec/schema';
import { createEngineFactory } from '../../../../src/platforms/local/default-engine-factory';
import { checkDeploySpec } from '../../../../src/platforms/local/deploy-spec-check';
import { LocalServingClient } from '../../../../src/platforms/local/local-serving-client';
import { platformPaths } from '../../../../src/platforms/local/platform-paths';
import { runPlatformDaemon, type RunningPlatformDaemon } from '../../../../src/platforms/local/run-platform-daemon';
import type { ServingTimings } from '../../../../src/platforms/local/serving-app';

/** Fast platform timings for tests. */
export const TEST_TIMINGS: ServingTimings = {
  stopGraceMs: 1_000,
  replaceDelayMs: 400,
  maxReplaceDelayMs: 2_000,
  tickMs: 50,
};

let isBuilt = false;

/** Builds lib/ (the emulator and the CLI run from there) when it is missing or older than src/; safe across workers. */
export function ensureLibBuilt(): void {
  if (isBuilt) return;
  const root = projectRoot();
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true, recursive: true }).reduce((max, entry) => {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) return max;
      return Math.max(max, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }, 0);
  const entry = cliEntry();
  const isStale = (): boolean =>
    !fs.existsSync(entry) ||
    fs.statSync(path.join(root, 'lib', 'platforms', 'local', 'serving-app.js'), { throwIfNoEntry: false }) ===
      undefined ||
    newest(path.join(root, 'src')) >
      (fs.statSync(path.join(root, 'lib', '.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  if (isStale()) {
    const lock = path.join(os.tmpdir(), `glm-ops-build-${Buffer.from(root).toString('hex').slice(-16)}.lock`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch {
        if (Date.now() > deadline) fs.rmSync(lock, { recursive: true, force: true });
        execFileSync('sleep', ['0.2']);
      }
    }
    try {
      if (isStale()) {
        try {
          execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
        } catch {
          // Type errors elsewhere in the tree still emit JavaScript; the entry check below is what matters.
        }
      }
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing after the build`);
  isBuilt = true;
}

/** The local demo spec with test-sized settings. */
export function testSpec(app: string, patch: (spec: Spec) => void = () => undefined): Spec {
  const text = fs.readFileSync(path.join(projectRoot(), 'examples', 'local-demo.yaml'), 'utf8');
  const parsed = parseSpecText(text);
  if (!parsed.ok) throw new Error(`examples/local-demo.yaml does not parse: ${JSON.stringify(parsed.errors)}`);
  const spec = structuredClone(parsed.spec);
  spec.app = app;
  spec.local.timeScale = 0.001;
  spec.health.startupTimeout = 10;
  spec.modal.scaledownWindow = 600;
  spec.modal.maxContainers = 1;
  spec.local.emulator = {
    phases: { weightLoadMs: 200_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
  };
  patch(spec);
  return spec;
}

/** A platform daemon running in this process against a temp state folder, with a client for it. */
export interface PlatformFixture {
  home: string;
  env: NodeJS.ProcessEnv;
  apiKey: string;
  client: LocalServingClient;
  running: RunningPlatformDaemon;
  /** Simulates a daemon SIGKILL (routers gone, engines left running), then starts a new daemon on the same state. */
  restartAfterCrash(whileDown?: () => void): Promise<void>;
  /** Stops the daemon and its engines and removes the temp folder. */
  cleanup(): Promise<void>;
}

/** Starts a fixture: temp GLM_OPS_HOME, an API key secret, a model folder with config.json, a kernel cache folder. */
export async function startPlatformFixture(
  options: { timings?: Partial<ServingTimings> } = {},
): Promise<PlatformFixture> {
  ensureLibBuilt();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-platform-'));
  const apiKey = `sk-test-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const env: NodeJS.ProcessEnv = { ...process.env, GLM_OPS_HOME: home };
  delete env[secretEnvVar('glm-api-key')];
  fs.mkdirSync(path.join(home, 'secrets'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, 'secrets', 'glm-api-key'), apiKey, { mode: 0o600 });
  const modelPath = path.join(home, 'model');
  const kernelCacheDir = path.join(home, 'kernels');
  fs.mkdirSync(modelPath, { recursive: true });
  fs.mkdirSync(kernelCacheDir, { recursive: true });
  fs.writeFileSync(path.join(modelPath, 'config.json'), JSON.stringify({ architectures: ['GlmMoeDsaForCausalLM'] }));
  const start = (): Promise<RunningPlatformDaemon> =>
    runPlatformDaemon({
      paths: platformPaths(env),
      factory: createEngineFactory({ env, resolveEnginePaths: () => ({ modelPath, kernelCacheDir }) }),
      timings: { ...TEST_TIMINGS, ...options.timings },
      checkSpec: checkDeploySpec,
    });
  const fixture: PlatformFixture = {
    home,
    env,
    apiKey,
    client: new LocalServingClient(env),
    running: await start(),
    async restartAfterCrash(whileDown) {
      await fixture.running.shutdown({ stopEngines: false });
      whileDown?.();
      fixture.running = await start();
    },
    async cleanup() {
      await fixture.running.shutdown({ stopEngines: true });
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** One streaming chat completion; resolves the status and the streamed text. */
export async function streamChat(
  url: string,
  apiKey: string,
  maxTokens = 8,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: maxTokens,
      stream: true,
    }),
  });
  return { status: response.status, body: await response.text() };
}

/** Polls until the predicate holds or timeoutMs passes; resolves whether it held. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  pollMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return predicate();
}
