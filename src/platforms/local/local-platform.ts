import * as path from 'node:path';
import { loadConfig, type Config } from '../../config/config';
import type { Spec } from '../../spec/schema';
import type {
  Deployment,
  Endpoint,
  KernelCacheStatus,
  KernelCompileResult,
  LogLine,
  Platform,
  ProgressCallback,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from '../platform';
import { LocalServingClient } from './local-serving-client';
import { LocalStorage } from './local-storage';
import { platformPathsIn } from './platform-paths';

/** The hub the local demo serves its fixture checkpoint from when HF_ENDPOINT is unset. */
export const LOCAL_HUB_FALLBACK_URL = 'http://127.0.0.1:8700';

/** LocalStorage as the daemon and the worker build it: volumes under the state dir, on the configured hub. */
export function localStorageFor(config: Pick<Config, 'stateDir' | 'hub'>): LocalStorage {
  return new LocalStorage({
    volumesRoot: path.join(config.stateDir, 'volumes'),
    hubUrl: config.hub.endpoint ?? LOCAL_HUB_FALLBACK_URL,
    ...(config.hub.token ? { hubToken: config.hub.token } : {}),
  });
}

/**
 * The local platform: volumes are directories (LocalStorage), serving goes through the platform daemon
 * (LocalServingClient), both found from the environment's state dir.
 */
export class LocalPlatform implements Platform {
  readonly name = 'local' as const;

  constructor(
    private readonly storage: LocalStorage,
    private readonly serving: LocalServingClient,
  ) {}

  /** Wires both halves from the settings: the state dir (volumes, the daemon's address) and the hub. */
  static fromConfig(config: Pick<Config, 'stateDir' | 'hub'>): LocalPlatform {
    return new LocalPlatform(localStorageFor(config), new LocalServingClient(platformPathsIn(config.stateDir)));
  }

  /** {@link fromConfig} with the settings read from an environment (GLM_OPS_HOME, HF_ENDPOINT, HF_TOKEN). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): LocalPlatform {
    return LocalPlatform.fromConfig(loadConfig(env));
  }

  weightsStatus(spec: Spec, options?: { full?: boolean }): Promise<WeightsStatus> {
    return this.storage.weightsStatus(spec, options);
  }

  ensureWeights(spec: Spec, options?: { onProgress?: ProgressCallback; signal?: AbortSignal }): Promise<WeightsResult> {
    return this.storage.ensureWeights(spec, options);
  }

  commitVolume(spec: Spec, volume: VolumeKind): Promise<void> {
    return this.storage.commitVolume(spec, volume);
  }

  kernelCacheStatus(spec: Spec): Promise<KernelCacheStatus> {
    return this.storage.kernelCacheStatus(spec);
  }

  compileKernels(
    spec: Spec,
    options: { rolloutId: string; onProgress?: ProgressCallback; signal?: AbortSignal },
  ): Promise<KernelCompileResult> {
    return this.storage.compileKernels(spec, options);
  }

  invalidateKernels(
    spec: Spec,
    options?: { gpuType?: string; onlyIfRolloutId?: string },
  ): Promise<{ removed: boolean }> {
    return this.storage.invalidateKernels(spec, options);
  }

  currentDeployment(app: string): Promise<Deployment | null> {
    return this.serving.currentDeployment(app);
  }

  deploy(spec: Spec, options: { rolloutId: string }): Promise<Deployment> {
    return this.serving.deploy(spec, options);
  }

  history(app: string): Promise<Deployment[]> {
    return this.serving.history(app);
  }

  rollback(app: string, version: number): Promise<Deployment> {
    return this.serving.rollback(app, version);
  }

  stop(app: string): Promise<void> {
    return this.serving.stop(app);
  }

  endpoint(app: string): Promise<Endpoint> {
    return this.serving.endpoint(app);
  }

  logs(app: string, options?: { since?: string; limit?: number }): Promise<LogLine[]> {
    return this.serving.logs(app, options);
  }

  setMinContainers(app: string, minContainers: number): Promise<void> {
    return this.serving.setMinContainers(app, minContainers);
  }
}
