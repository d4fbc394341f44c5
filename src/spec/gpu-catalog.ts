/** CUDA SM architecture of a GPU; kernels compiled for one do not load on another. */
export type SmArch = 'sm100' | 'sm103' | 'sm90';

/** What glm-ops knows about a GPU type: architecture, memory, default price, and where each figure comes from. */
export interface GpuInfo {
  /** Modal's spelling of the type (`gpu="B200:8"`). */
  type: string;
  smArch: SmArch;
  /** Blackwell (sm10x) parts get the guide's Blackwell-specific rules (#21291, #22359). */
  isBlackwell: boolean;
  /** HBM per GPU in GB (10^9 bytes, as vendors quote it). */
  vramGB: number;
  /** Default price per GPU-hour; override with gpu.dollarsPerGpuHour or GLM_OPS_GPU_PRICE_<TYPE>. */
  dollarsPerGpuHour: number;
  /** The highest --mem-fraction-static glm-ops recommends on this GPU (guide §4, §20). */
  recommendedMemFractionStatic: number;
  /** Where the figures come from, estimates labelled as such. */
  source: string;
}

/** The GPU types glm-ops can reason about. */
export const GPU_CATALOG: Readonly<Record<string, GpuInfo>> = {
  B200: {
    type: 'B200',
    smArch: 'sm100',
    isBlackwell: true,
    vramGB: 192,
    dollarsPerGpuHour: 6.25,
    recommendedMemFractionStatic: 0.88,
    source:
      'sm100 and 192 GB HBM3e: the guide (overview, §20). $6.25/GPU-h: Modal public pricing as remembered ($0.001736/s); ' +
      'it reproduces the guide §8 always-on figure (8 GPUs × 720 h × $6.25 = $36,000). mem-fraction 0.88: guide §1.',
  },
  B300: {
    type: 'B300',
    smArch: 'sm103',
    isBlackwell: true,
    vramGB: 288,
    dollarsPerGpuHour: 6.25,
    recommendedMemFractionStatic: 0.88,
    source:
      '288 GB HBM3e and sm103 (compute capability 10.3): NVIDIA Blackwell Ultra spec sheet as remembered. ' +
      'Price: ESTIMATE, no public Modal B300 price was available, so the B200 price is used as a placeholder; override it. ' +
      'mem-fraction: the B200 value (more VRAM per GPU needs no tightening).',
  },
  H200: {
    type: 'H200',
    smArch: 'sm90',
    isBlackwell: false,
    vramGB: 141,
    dollarsPerGpuHour: 4.54,
    recommendedMemFractionStatic: 0.83,
    source:
      '141 GB HBM3e: the guide §20 and NVIDIA H200 spec sheet; sm90 (Hopper). $4.54/GPU-h: Modal public pricing as ' +
      'remembered ($0.001261/s), an estimate. mem-fraction 0.83: guide §20 (B200 → H200: 0.88 → 0.83).',
  },
  H100: {
    type: 'H100',
    smArch: 'sm90',
    isBlackwell: false,
    vramGB: 80,
    dollarsPerGpuHour: 3.95,
    recommendedMemFractionStatic: 0.77,
    source:
      '80 GB HBM3: NVIDIA H100 SXM spec sheet; sm90 (Hopper). $3.95/GPU-h: Modal public pricing as remembered ' +
      '($0.001097/s), an estimate. mem-fraction 0.77: ESTIMATE, the guide §20 step (0.05 per 51 GB less VRAM) extrapolated. ' +
      'GLM-5.1 FP8 (~700 GB) does not fit 8×H100 (640 GB); the SGLang cookbook uses tp=16 there.',
  },
};

/** Looks a GPU type up case-insensitively (`b200` → B200); undefined for types glm-ops does not know. */
export function lookupGpu(type: string): GpuInfo | undefined {
  const key = type.trim().toUpperCase();
  return Object.prototype.hasOwnProperty.call(GPU_CATALOG, key) ? GPU_CATALOG[key] : undefined;
}

/** Where a resolved price came from. */
export type PriceSource = 'spec' | 'env' | 'catalog';

/**
 * The $/GPU-hour to use: `gpu.dollarsPerGpuHour` in the spec, else `GLM_OPS_GPU_PRICE_<TYPE>` from the environment,
 * else the catalog default. Undefined only for an unknown GPU with no override.
 */
export function resolveGpuPrice(
  gpu: { type: string; dollarsPerGpuHour?: number },
  env: NodeJS.ProcessEnv,
): { dollarsPerGpuHour: number; source: PriceSource } | undefined {
  if (gpu.dollarsPerGpuHour !== undefined) return { dollarsPerGpuHour: gpu.dollarsPerGpuHour, source: 'spec' };
  const envName = `GLM_OPS_GPU_PRICE_${gpu.type
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '_')}`;
  const fromEnv = env[envName]?.trim();
  if (fromEnv) {
    const price = Number(fromEnv);
    if (!Number.isFinite(price) || price <= 0) {
      throw new RangeError(
        `${envName}=${JSON.stringify(fromEnv)} is not a positive price in $/GPU-hour: set e.g. ${envName}=6.25`,
      );
    }
    return { dollarsPerGpuHour: price, source: 'env' };
  }
  const info = lookupGpu(gpu.type);
  return info ? { dollarsPerGpuHour: info.dollarsPerGpuHour, source: 'catalog' } : undefined;
}
