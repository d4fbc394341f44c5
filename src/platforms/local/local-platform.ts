import * as path from 'node:path';
import { stateDir } from '../../config/paths';
import type { Spec } from '../../spec/schema';
import { hubConnectionFromEnv } from '../../storage/hub-api-client';
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

/** The hub the local demo serves its fixture checkpoint from when HF_ENDPOINT is unset. */
export const LOCAL_HUB_FALLBACK_URL = 'http://127.0.0.1:8700';

/** LocalStorage as the daemon and the worker build it from the environment (volumes under the state dir). */
export function localStorageFromEnv(env: NodeJS.ProcessEnv = process.env): LocalStorage {
  const hub = hubConnectionFromEnv(env, LOCAL_HUB_FALLBACK_URL);
  return new LocalStorage({
    volumesRoot: path.join(stateDir(env), 'volumes'),
    hubUrl: hub.endpoint,
    ...(hub.token ? { hubToken: hub.token } : {}),
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

  /** Wires both halves from the environment (GLM_OPS_HOME, HF_ENDPOINT, HF_TOKEN). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): LocalPlatform {
    return new LocalPlatform(localStorageFromEnv(env), new LocalServingClient(env));
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
