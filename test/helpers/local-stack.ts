import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createActivities, type Activities } from '../../src/activities';
import { loadConfig, type Config } from '../../src/config/config';
import { secretEnvVar, secretSource, type SecretSource } from '../../src/config/secrets';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import { writeFixtureCheckpoint } from '../../src/hub/fixture-checkpoint';
import type { HubFaultPlan } from '../../src/hub/hub-faults';
import { startPlatform, stopPlatform } from '../../src/platforms/local/daemon-lifecycle';
import { LocalPlatform } from '../../src/platforms/local/local-platform';
import type { Spec } from '../../src/spec/schema';
import { builtCliEntry } from './built-lib';
import { testSpec } from './test-spec';

/** A whole local platform for one test file: fixture hub, detached platform daemon, volumes, secret, activities. */
export interface LocalStack {
  home: string;
  /** The stack's settings (its temp state folder, its hub); `config.env` is what its child processes get. */
  config: Config;
  /** {@link config}'s environment, for tests that start the CLI or a worker against the stack. */
  env: NodeJS.ProcessEnv;
  secrets: SecretSource;
  apiKey: string;
  hub: RunningHub;
  platform: LocalPlatform;
  activities: Activities;
  /** {@link testSpec} at engine time scale 0.002 (a start-up the workflow's health polling sees). */
  specFor(app: string, patch?: (spec: Spec) => void): Spec;
  cleanup(): Promise<void>;
}

/** Starts the stack: writes a small real checkpoint, serves it, starts the real platform daemon (from lib/). */
export async function startLocalStack(options: { faults?: HubFaultPlan; sizeMB?: number } = {}): Promise<LocalStack> {
  builtCliEntry();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-stack-'));
  const fixtureDir = path.join(home, 'hub-fixture');
  await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB: options.sizeMB ?? 6, shardCount: 3 });
  const hub = await startHub({ fixtureDir, faults: options.faults });
  const apiKey = `sk-stack-${randomBytes(12).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, GLM_OPS_HOME: home, HF_ENDPOINT: hub.url };
  delete env[secretEnvVar('glm-api-key')];
  delete env.HF_TOKEN;
  const config = loadConfig(env);
  const secrets = secretSource(config);
  secrets.ensureLocal('glm-api-key', () => apiKey);
  await startPlatform(config);
  const platform = LocalPlatform.fromConfig(config);
  const activities = createActivities({
    platforms: { local: platform },
    resolveSecret: secrets.resolve,
    heartbeatIntervalMs: 200,
  });
  return {
    home,
    config,
    env,
    secrets,
    apiKey,
    hub,
    platform,
    activities,
    specFor: (app, patch) =>
      testSpec(app, (spec) => {
        spec.local.timeScale = 0.002;
        patch?.(spec);
      }),
    async cleanup() {
      await stopPlatform(config).catch(() => undefined);
      await hub.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
