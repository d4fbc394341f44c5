import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { secretEnvVar } from '../../src/config/secrets';
import type { Spec } from '../../src/spec/schema';
import { createEngineFactory } from '../../src/platforms/local/default-engine-factory';
import { checkDeploySpec } from '../../src/platforms/local/deploy-spec-check';
import { LocalServingClient } from '../../src/platforms/local/local-serving-client';
import { platformPaths } from '../../src/platforms/local/platform-paths';
import { runPlatformDaemon, type RunningPlatformDaemon } from '../../src/platforms/local/run-platform-daemon';
import type { ServingTimings } from '../../src/platforms/local/serving-app';
import { builtCliEntry } from './built-lib';
import { testSpec } from './test-spec';

/** Fast platform timings for tests. */
export const TEST_TIMINGS: ServingTimings = {
  stopGraceMs: 1_000,
  replaceDelayMs: 400,
  maxReplaceDelayMs: 2_000,
  tickMs: 50,
};

/** A platform daemon running in this process against a temp state folder, with a client for it. */
export interface PlatformFixture {
  home: string;
  env: NodeJS.ProcessEnv;
  apiKey: string;
  client: LocalServingClient;
  running: RunningPlatformDaemon;
  /** {@link testSpec} with engines that start in ~0.2 s (no kernel compile or graph capture, a short weight load). */
  specFor(app: string, patch?: (spec: Spec) => void): Spec;
  /** Simulates a daemon SIGKILL (routers gone, engines left running), then starts a new daemon on the same state. */
  restartAfterCrash(whileDown?: () => void): Promise<void>;
  /** Stops the daemon and its engines and removes the temp folder. */
  cleanup(): Promise<void>;
}

/** Starts a fixture: temp GLM_OPS_HOME, an API key secret, a model folder with config.json, a kernel cache folder. */
export async function startPlatformFixture(
  options: { timings?: Partial<ServingTimings> } = {},
): Promise<PlatformFixture> {
  builtCliEntry();
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
    client: new LocalServingClient(platformPaths(env)),
    running: await start(),
    specFor: (app, patch) =>
      testSpec(app, (spec) => {
        spec.local.emulator = {
          phases: { weightLoadMs: 200_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
        };
        patch?.(spec);
      }),
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
