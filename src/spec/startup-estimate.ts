import { lookupGpu } from './gpu-catalog';
import type { Spec } from './schema';

/**
 * Default volume read throughput in GB/s, taken from the slow end of what the guide reports for 700 GB:
 * 3–5 min (§7) and 5–7 min (Configuration page, watchdog row). 700 GB / 420 s ≈ 1.67 GB/s.
 */
export const DEFAULT_VOLUME_THROUGHPUT_GBPS = 700 / 420;
/** The fast end: 700 GB in 3 min (guide §7). */
export const FAST_VOLUME_THROUGHPUT_GBPS = 700 / 180;

/** One cold-start phase with a low and a high estimate in seconds. */
export interface PhaseEstimate {
  /** `provision`, `weightLoad`, `deepGemmJit`, `graphCapture`, `warmup`. */
  name: string;
  lowSeconds: number;
  highSeconds: number;
  /** Whether the phase runs inside the engine, so `local.timeScale` applies to it on the local platform. */
  isEngineInternal: boolean;
  /** Where the figure comes from. */
  basis: string;
}

/** Cold-start estimate for a spec, raw (engine time) and as wall-clock time on its platform. */
export interface StartupEstimate {
  phases: PhaseEstimate[];
  /** Seconds the engine spends loading weights at the high estimate, unscaled: what the watchdog must outlast. */
  weightLoadHighSeconds: number;
  /** Wall-clock seconds from deploy until /health can answer 200 (provision + load + JIT + capture), high estimate. */
  untilHealthyHighSeconds: number;
  /** Wall-clock seconds warmup needs (graph capture on first requests + four warmup requests), high estimate. */
  warmupHighSeconds: number;
  /** Whole cold start, low and high, wall-clock. */
  totalLowSeconds: number;
  totalHighSeconds: number;
  /** The factor applied to engine-internal phases (local.timeScale on the local platform, else 1). */
  timeScale: number;
}

/** Knobs for the estimate. */
export interface StartupEstimateOptions {
  /** Volume read throughput for the high (slow) load estimate. @default DEFAULT_VOLUME_THROUGHPUT_GBPS */
  volumeThroughputGBps?: number;
  /** Whether a DeepGEMM cache compiled for this GPU is present; without it the engine JIT-compiles (+≥5 min, §18). @default true */
  hasKernelCache?: boolean;
}

/**
 * Estimates the guide's cold-start phases (§7, §10): provision ~30 s, weight load from weightsGB at the volume
 * throughput, DeepGEMM JIT ≥5 min without a cache, CUDA graph capture 2–3 min, warmup 1–2 min. On the local platform
 * engine-internal phases are multiplied by local.timeScale, and provisioning is a process spawn.
 */
export function estimateStartup(spec: Spec, options: StartupEstimateOptions = {}): StartupEstimate {
  const slowThroughput = options.volumeThroughputGBps ?? DEFAULT_VOLUME_THROUGHPUT_GBPS;
  if (!(slowThroughput > 0)) throw new RangeError(`volumeThroughputGBps must be positive, got ${slowThroughput}`);
  const fastThroughput = Math.max(slowThroughput, FAST_VOLUME_THROUGHPUT_GBPS);
  const timeScale = spec.platform === 'local' ? spec.local.timeScale : 1;
  const hasKernelCache = options.hasKernelCache ?? true;
  const gpu = lookupGpu(spec.gpu.type);
  const phases: PhaseEstimate[] = [
    spec.platform === 'local'
      ? { name: 'provision', lowSeconds: 1, highSeconds: 5, isEngineInternal: false, basis: 'local process spawn' }
      : {
          name: 'provision',
          lowSeconds: 20,
          highSeconds: 45,
          isEngineInternal: false,
          basis: `guide §7: Modal provisions ${spec.gpu.count}×${gpu?.type ?? spec.gpu.type} in ~30 s`,
        },
    {
      name: 'weightLoad',
      lowSeconds: spec.model.weightsGB / fastThroughput,
      highSeconds: spec.model.weightsGB / slowThroughput,
      isEngineInternal: true,
      basis: `${spec.model.weightsGB} GB at ${fastThroughput.toFixed(2)}–${slowThroughput.toFixed(2)} GB/s (guide §7: 700 GB in 3–5 min; Configuration page: 5–7 min)`,
    },
    ...(hasKernelCache
      ? []
      : [
          {
            name: 'deepGemmJit',
            lowSeconds: 300,
            highSeconds: 600,
            isEngineInternal: true,
            basis: 'guide §10, §18: no pre-compiled DeepGEMM cache turns 6–10 min cold starts into 15+ min',
          },
        ]),
    {
      name: 'graphCapture',
      lowSeconds: 120,
      highSeconds: 180,
      isEngineInternal: true,
      basis: 'guide §7: CUDA graph capture 2–3 min',
    },
    {
      name: 'warmup',
      lowSeconds: 60,
      highSeconds: 120,
      isEngineInternal: true,
      basis: 'guide §7: warmup (4 requests) 1–2 min',
    },
  ];
  const wall = (phase: PhaseEstimate, seconds: number): number =>
    phase.isEngineInternal ? seconds * timeScale : seconds;
  const sumHigh = (names: string[]): number =>
    phases
      .filter((phase) => names.includes(phase.name))
      .reduce((total, phase) => total + wall(phase, phase.highSeconds), 0);
  return {
    phases,
    weightLoadHighSeconds: phases.find((phase) => phase.name === 'weightLoad')?.highSeconds ?? 0,
    untilHealthyHighSeconds: sumHigh(['provision', 'weightLoad', 'deepGemmJit', 'graphCapture']),
    warmupHighSeconds: sumHigh(['graphCapture', 'warmup']),
    totalLowSeconds: phases.reduce((total, phase) => total + wall(phase, phase.lowSeconds), 0),
    totalHighSeconds: phases.reduce((total, phase) => total + wall(phase, phase.highSeconds), 0),
    timeScale,
  };
}
