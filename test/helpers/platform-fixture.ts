import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Config } from '../../src/config/config';
import type { Spec } from '../../src/spec/schema';
import type { LocalServingClient } from '../../src/platforms/local/local-serving-client';
import type { RunningPlatformDaemon } from '../../src/platforms/local/run-platform-daemon';
import { startScratchPlatform } from '../../src/platforms/local/scratch-platform';
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
  config: Config;
  apiKey: string;
  client: LocalServingClient;
  readonly running: RunningPlatformDaemon;
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
  const scratch = await startScratchPlatform({
    home: fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-platform-')),
    apiKey: `sk-test-${Math.random().toString(36).slice(2)}${Date.now()}`,
    timings: { ...TEST_TIMINGS, ...options.timings },
    modelConfig: { architectures: ['GlmMoeDsaForCausalLM'] },
  });
  return {
    home: scratch.home,
    config: scratch.config,
    apiKey: scratch.apiKey,
    client: scratch.client,
    get running() {
      return scratch.running;
    },
    specFor: (app, patch) =>
      testSpec(app, (spec) => {
        spec.local.emulator = {
          phases: { weightLoadMs: 200_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
        };
        patch?.(spec);
      }),
    restartAfterCrash: (whileDown) => scratch.restart(whileDown),
    cleanup: () => scratch.close(),
  };
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
