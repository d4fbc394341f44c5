import type { Spec } from '../spec/schema';
import type {
  Deployment,
  Endpoint,
  KernelCacheStatus,
  KernelCompileResult,
  LogLine,
  LongStepOptions,
  Platform,
  ServingPort,
  StoragePort,
  VerifiedDeployment,
  VolumeKind,
  WeightsResult,
  WeightsStatus,
} from './platform';

/**
 * A platform made of its two halves: every StoragePort method goes to `storage`, every ServingPort method to
 * `serving`. Both adapters are built this way; each names itself and wires its own halves.
 */
export abstract class ComposedPlatform implements Platform {
  abstract readonly name: Platform['name'];

  constructor(
    private readonly storage: StoragePort,
    private readonly serving: ServingPort,
  ) {}

  weightsStatus(spec: Spec, options?: { full?: boolean } & LongStepOptions): Promise<WeightsStatus> {
    return this.storage.weightsStatus(spec, options);
  }

  ensureWeights(spec: Spec, options?: LongStepOptions): Promise<WeightsResult> {
    return this.storage.ensureWeights(spec, options);
  }

  commitVolume(spec: Spec, volume: VolumeKind, options?: LongStepOptions): Promise<void> {
    return this.storage.commitVolume(spec, volume, options);
  }

  kernelCacheStatus(spec: Spec): Promise<KernelCacheStatus> {
    return this.storage.kernelCacheStatus(spec);
  }

  compileKernels(spec: Spec, options: { rolloutId: string } & LongStepOptions): Promise<KernelCompileResult> {
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

  deploy(spec: Spec, options: { rolloutId: string; signal?: AbortSignal; isTrial?: boolean }): Promise<Deployment> {
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

  markVerified(app: string, version: number): Promise<void> {
    return this.serving.markVerified(app, version);
  }

  lastVerified(app: string, options?: { excluding?: number }): Promise<VerifiedDeployment | null> {
    return this.serving.lastVerified(app, options);
  }
}
