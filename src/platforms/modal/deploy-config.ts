import {
  buildSglangArgv,
  DEEPGEMM_CACHE_MOUNT,
  defaultModelPath,
  MODEL_CACHE_MOUNT,
  repoNamePart,
  SGLANG_LAUNCH_MODULE,
  SGLANG_PORT,
} from '../../spec/argv-builder';
import { lookupGpu, type SmArch } from '../../spec/gpu-catalog';
import type { Spec } from '../../spec/schema';
import { WARMUP_REQUESTS, type WarmupBody, type WarmupName } from '../../spec/warmup-requests';
import { SENTINEL_FILE } from '../../storage/download-sentinel';

/** Version of the JSON layout modal/deploy.py reads; bump on any breaking change. */
export const DEPLOY_CONFIG_SCHEMA_VERSION = 1;

/** Suffix of the ops app: the storage functions are deployed as `<app>-ops`, apart from the serving app. */
export const OPS_APP_SUFFIX = '-ops';

/** The name of the app that holds a spec's storage functions (download, compile, verify, commit). */
export function opsAppName(app: string): string {
  return `${app}${OPS_APP_SUFFIX}`;
}

/**
 * Modal-side time limits of the storage functions (seconds), rendered so deploy.py and the adapter that waits for
 * them read one number: 700 GB of weights take hours, a first 8×B200 DeepGEMM compile up to two.
 */
export const MODAL_FUNCTION_TIMEOUTS = {
  downloadSec: 24 * 60 * 60,
  compileSec: 2 * 60 * 60,
  verifySec: 2 * 60 * 60,
  commitSec: 10 * 60,
} as const;

/** Everything modal/deploy.py needs at import time, rendered from one spec. Contains no secret values. */
export interface DeployConfig {
  schemaVersion: typeof DEPLOY_CONFIG_SCHEMA_VERSION;
  app: string;
  environment: string;
  model: { repo: string; revision: string; servedName: string; path: string; weightsGB: number };
  /** Modal's gpu= string, e.g. "B200:8". */
  gpu: string;
  gpuType: string;
  gpuCount: number;
  /** The CUDA SM arch of gpuType from the GPU catalog, for the kernel marker; null for a type the catalog lacks. */
  smArch: SmArch | null;
  image: string;
  /** The full command: `python3 -m sglang.launch_server` followed by the flags. */
  launchModule: string[];
  /** Flags after the launch module; deploy.py appends `--api-key` from the named secret at run time. */
  argv: string[];
  modal: { minContainers: number; maxContainers: number; scaledownWindow: number; maxInputs: number };
  volumes: { weights: { name: string; mountPath: string }; kernels: { name: string; mountPath: string } };
  health: { startupTimeout: number; pollInterval: number };
  /** `requests` are the guide's four warmups (WARMUP_REQUESTS); deploy.py adds `model` and sends them in turn. */
  warmup: { timeout: number; requests: { name: WarmupName; body: WarmupBody }[] };
  keepWarm: { cron: string; timezone: string; enabled: boolean; strategy: 'ping' | 'pin' };
  /** Names of Modal secrets, never their values. */
  secrets: { apiKey: string };
  /** DeepGEMM marker file in the kernels volume (guide §18, §20: `.compiled-GLM-5.1-FP8`). */
  kernelMarkerName: string;
  port: number;
  /** Name of the ops app (`<app>-ops`) that deploy.py defines when GLM_OPS_DEPLOY_ROLE=ops. */
  opsApp: string;
  /** The download sentinel's file name, so deploy.py and the TypeScript readers agree. */
  sentinelFile: string;
  /** Modal `timeout=` of each storage function, in seconds. */
  timeouts: { downloadSec: number; compileSec: number; verifySec: number; commitSec: number };
}

/** Renders the JSON that modal/deploy.py reads, so no flag list, table or constant is written twice. */
export function renderDeployConfig(spec: Spec): DeployConfig {
  return {
    schemaVersion: DEPLOY_CONFIG_SCHEMA_VERSION,
    app: spec.app,
    environment: spec.environment,
    model: {
      repo: spec.model.repo,
      revision: spec.model.revision,
      servedName: spec.model.servedName,
      path: defaultModelPath(spec),
      weightsGB: spec.model.weightsGB,
    },
    gpu: `${spec.gpu.type}:${spec.gpu.count}`,
    gpuType: spec.gpu.type,
    gpuCount: spec.gpu.count,
    smArch: lookupGpu(spec.gpu.type)?.smArch ?? null,
    image: spec.sglang.image,
    launchModule: [...SGLANG_LAUNCH_MODULE],
    argv: buildSglangArgv(spec),
    modal: { ...spec.modal },
    volumes: {
      weights: { name: spec.volumes.weights, mountPath: MODEL_CACHE_MOUNT },
      kernels: { name: spec.volumes.kernels, mountPath: DEEPGEMM_CACHE_MOUNT },
    },
    health: { ...spec.health },
    warmup: { ...spec.warmup, requests: WARMUP_REQUESTS.map(({ name, body }) => ({ name, body })) },
    keepWarm: { ...spec.keepWarm },
    secrets: { apiKey: spec.secrets.apiKey },
    kernelMarkerName: `.compiled-${repoNamePart(spec.model.repo)}`,
    port: SGLANG_PORT,
    opsApp: opsAppName(spec.app),
    sentinelFile: SENTINEL_FILE,
    timeouts: { ...MODAL_FUNCTION_TIMEOUTS },
  };
}
