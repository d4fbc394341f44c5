import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, type Config } from '../../config/config';
import { secretEnvVar, secretSource } from '../../config/secrets';
import { createEngineFactory } from './default-engine-factory';
import { checkDeploySpec } from './deploy-spec-check';
import type { ServingTimings } from './engine-pool';
import { LocalServingClient } from './local-serving-client';
import { platformPathsIn } from './platform-paths';
import { runPlatformDaemon, type RunningPlatformDaemon } from './run-platform-daemon';

/**
 * A platform daemon in this process on a throwaway state folder, with everything an engine needs already there: the
 * API key secret, a model folder with a config.json and a kernel cache folder (no hub, no download). The tests'
 * platform fixture, the benchmarks and the conformance stack run on it.
 */
export interface ScratchPlatform {
  /** The state folder (GLM_OPS_HOME of {@link config}). */
  home: string;
  /** The settings of the state folder; the API key is only in its secret file, not in the environment. */
  config: Config;
  apiKey: string;
  modelPath: string;
  kernelCacheDir: string;
  client: LocalServingClient;
  /** The daemon now running; {@link restart} replaces it. */
  running: RunningPlatformDaemon;
  /** Simulates a daemon SIGKILL (routers gone, engines left running), then starts a new daemon on the same state. */
  restart(whileDown?: () => void): Promise<void>;
  /** Stops the daemon and its engines and removes the state folder. */
  close(): Promise<void>;
}

/** Fills the state folder and starts the daemon on it. */
export async function startScratchPlatform(options: {
  /** An empty folder the caller made (its temp folder); {@link ScratchPlatform.close} removes it. */
  home: string;
  apiKey: string;
  timings: ServingTimings;
  /** What the model folder's config.json holds; default `{}`. */
  modelConfig?: object;
  /** A kernel cache manifest.json to write; default none. */
  kernelManifest?: object;
}): Promise<ScratchPlatform> {
  const { home } = options;
  const env: NodeJS.ProcessEnv = { ...process.env, GLM_OPS_HOME: home };
  delete env[secretEnvVar('glm-api-key')];
  const config = loadConfig(env);
  const secrets = secretSource(config);
  secrets.ensureLocal('glm-api-key', () => options.apiKey);
  const modelPath = path.join(home, 'model');
  const kernelCacheDir = path.join(home, 'kernels');
  fs.mkdirSync(modelPath, { recursive: true });
  fs.mkdirSync(kernelCacheDir, { recursive: true });
  fs.writeFileSync(path.join(modelPath, 'config.json'), JSON.stringify(options.modelConfig ?? {}));
  if (options.kernelManifest) {
    fs.writeFileSync(path.join(kernelCacheDir, 'manifest.json'), JSON.stringify(options.kernelManifest));
  }
  const paths = platformPathsIn(config.stateDir);
  const start = (): Promise<RunningPlatformDaemon> =>
    runPlatformDaemon({
      paths,
      factory: createEngineFactory({ secrets, resolveEnginePaths: () => ({ modelPath, kernelCacheDir }) }),
      timings: options.timings,
      checkSpec: checkDeploySpec,
    });
  const scratch: ScratchPlatform = {
    home,
    config,
    apiKey: options.apiKey,
    modelPath,
    kernelCacheDir,
    client: new LocalServingClient(paths),
    running: await start(),
    async restart(whileDown) {
      await scratch.running.shutdown({ stopEngines: false });
      whileDown?.();
      scratch.running = await start();
    },
    async close() {
      await scratch.running.shutdown({ stopEngines: true });
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return scratch;
}
