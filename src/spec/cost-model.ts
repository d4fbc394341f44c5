import { measureCronCoverage, parseCron } from './cron-schedule';
import { resolveGpuPrice, type PriceSource } from './gpu-catalog';
import type { Spec } from './schema';

/** Assumptions behind the monthly figures; every one is overridable. */
export interface CostAssumptions {
  /** Billed replica-hours per day under scale-to-zero, including idle tails before scale-down. @default 8 (guide §8) */
  activeHoursPerDay: number;
  /** Days in a billing month. @default 30 (the guide's $36k always-on = 8 GPUs × 720 h × $6.25) */
  daysPerMonth: number;
  /** Replicas kept warm by the keep-alive and always-on strategies. @default max(1, modal.minContainers) */
  warmReplicas: number;
}

/** One of the guide §8 strategies, priced for a spec. */
export interface CostStrategy {
  id: 'scale-to-zero' | 'business-hours-keep-alive' | 'always-on';
  label: string;
  /** Replica-hours billed per month. */
  replicaHoursPerMonth: number;
  dollarsPerMonth: number;
  /** The guide's cold-start profile for the strategy. */
  coldProfile: string;
  /** The guide's illustrative figure for 8×B200, for comparison. */
  guideDollarsPerMonth: number;
  /** How the hours were derived. */
  basis: string;
}

/** Monthly cost of a spec under the guide's three strategies. */
export interface CostReport {
  gpu: string;
  dollarsPerGpuHour: number;
  priceSource: PriceSource;
  dollarsPerReplicaHour: number;
  assumptions: CostAssumptions;
  strategies: CostStrategy[];
  notes: string[];
}

/** The price of the spec's GPU could not be resolved. */
export class UnknownGpuPriceError extends Error {
  constructor(readonly gpuType: string) {
    super(
      `gpu.type ${JSON.stringify(gpuType)} has no known price: set gpu.dollarsPerGpuHour or GLM_OPS_GPU_PRICE_${gpuType.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
    );
    this.name = 'UnknownGpuPriceError';
  }
}

/**
 * Prices the guide §8 strategies from a spec: scale-to-zero billed for N active hours a day; business-hours
 * keep-alive billed for the time the keepWarm.cron keeps a replica up (each ping holds it for scaledownWindow);
 * always-on billed around the clock. GPU storage, CPU download (~$0.01/h) and egress are left out.
 */
export function estimateMonthlyCost(
  spec: Spec,
  options: Partial<CostAssumptions> & {
    /** The environment of the entry point: `GLM_OPS_GPU_PRICE_<TYPE>` overrides the catalog's price. */
    env: NodeJS.ProcessEnv;
  },
): CostReport {
  const price = resolveGpuPrice(spec.gpu, options.env);
  if (!price) throw new UnknownGpuPriceError(spec.gpu.type);
  const assumptions: CostAssumptions = {
    activeHoursPerDay: options.activeHoursPerDay ?? 8,
    daysPerMonth: options.daysPerMonth ?? 30,
    warmReplicas: options.warmReplicas ?? Math.max(1, spec.modal.minContainers),
  };
  if (!(assumptions.activeHoursPerDay >= 0 && assumptions.activeHoursPerDay <= 24)) {
    throw new RangeError(`activeHoursPerDay ${assumptions.activeHoursPerDay} must be between 0 and 24`);
  }
  if (!(assumptions.daysPerMonth > 0 && assumptions.daysPerMonth <= 31)) {
    throw new RangeError(`daysPerMonth ${assumptions.daysPerMonth} must be between 1 and 31`);
  }
  const replicaRate = price.dollarsPerGpuHour * spec.gpu.count;
  const coverage = measureCronCoverage(parseCron(spec.keepWarm.cron), spec.modal.scaledownWindow / 60);
  const keepAliveHours = (coverage.warmHoursPerWeek / 7) * assumptions.daysPerMonth * assumptions.warmReplicas;
  const scaleToZeroHours = assumptions.activeHoursPerDay * assumptions.daysPerMonth;
  const alwaysOnHours = 24 * assumptions.daysPerMonth * assumptions.warmReplicas;
  const strategy = (
    id: CostStrategy['id'],
    label: string,
    hours: number,
    coldProfile: string,
    guideDollarsPerMonth: number,
    basis: string,
  ): CostStrategy => ({
    id,
    label,
    replicaHoursPerMonth: hours,
    dollarsPerMonth: hours * replicaRate,
    coldProfile,
    guideDollarsPerMonth,
    basis,
  });
  return {
    gpu: `${spec.gpu.type}:${spec.gpu.count}`,
    dollarsPerGpuHour: price.dollarsPerGpuHour,
    priceSource: price.source,
    dollarsPerReplicaHour: replicaRate,
    assumptions,
    strategies: [
      strategy(
        'scale-to-zero',
        `Scale-to-zero (~${assumptions.activeHoursPerDay} h/day traffic)`,
        scaleToZeroHours,
        '6–10 min after ~15 min idle',
        12_000,
        `${assumptions.activeHoursPerDay} billed h/day × ${assumptions.daysPerMonth} days, one replica`,
      ),
      strategy(
        'business-hours-keep-alive',
        'Business-hours keep-alive cron',
        keepAliveHours,
        'none during hours; overnight/weekend cold possible',
        18_000,
        `keepWarm.cron "${spec.keepWarm.cron}" keeps ${assumptions.warmReplicas} replica(s) up ${coverage.warmHoursPerWeek.toFixed(1)} h/week (each ping holds for scaledownWindow ${spec.modal.scaledownWindow} s); traffic outside the window not counted`,
      ),
      strategy(
        'always-on',
        `Always-on (min_containers=${assumptions.warmReplicas})`,
        alwaysOnHours,
        'none',
        36_000,
        `24 h × ${assumptions.daysPerMonth} days × ${assumptions.warmReplicas} replica(s)`,
      ),
    ],
    notes: [
      `price: $${price.dollarsPerGpuHour}/GPU-h from ${price.source === 'catalog' ? 'the GPU catalog (see gpu-catalog.ts for its source)' : price.source === 'env' ? 'the environment' : 'gpu.dollarsPerGpuHour'}`,
      'excludes volume storage, the CPU download (~$0.01/h), the one-time DeepGEMM compile and extra replicas under burst load',
      'the cron is evaluated in wall-clock time of keepWarm.timezone; DST shifts are ignored',
    ],
  };
}
