import * as z from 'zod';
import { estimateMonthlyCost } from '../spec/cost-model';
import type { Spec } from '../spec/schema';
import { pinnedHoursPerWeek, pinWindowOf } from './pin-window';

/** The monthly cost of one keep-warm strategy for a spec. */
export interface KeepWarmStrategyCost {
  strategy: 'ping' | 'pin';
  replicaHoursPerMonth: number;
  dollarsPerMonth: number;
  /** How the hours were derived. */
  basis: string;
}

/** Both keep-warm strategies priced with the spec's cost model, plus scale-to-zero and always-on for scale. */
export interface KeepWarmCost {
  ping: KeepWarmStrategyCost;
  /** Undefined when the cron has no daily window (it restricts days of month or months). */
  pin?: KeepWarmStrategyCost;
  scaleToZeroDollarsPerMonth: number;
  alwaysOnDollarsPerMonth: number;
  dollarsPerReplicaHour: number;
}

/**
 * Prices `ping` as the cost model's business-hours keep-alive (each ping holds a replica for scaledownWindow) and
 * `pin` as one replica held from the window's first fire to its release, every window day.
 */
export function keepWarmCost(spec: Spec, env: NodeJS.ProcessEnv): KeepWarmCost {
  const report = estimateMonthlyCost(spec, { env, warmReplicas: 1 });
  const byId = (id: string) => report.strategies.find((s) => s.id === id)!;
  const keepAlive = byId('business-hours-keep-alive');
  let pin: KeepWarmStrategyCost | undefined;
  try {
    const window = pinWindowOf(spec.keepWarm.cron);
    const hours = (pinnedHoursPerWeek(window) / 7) * report.assumptions.daysPerMonth;
    pin = {
      strategy: 'pin',
      replicaHoursPerMonth: hours,
      dollarsPerMonth: hours * report.dollarsPerReplicaHour,
      basis: `min containers 1 from ${clock(window.startMinuteOfDay)} to ${clock(window.releaseMinuteOfDay)} ${spec.keepWarm.timezone}, ${window.daysPerWeek} day(s)/week`,
    };
  } catch {
    pin = undefined;
  }
  return {
    ping: {
      strategy: 'ping',
      replicaHoursPerMonth: keepAlive.replicaHoursPerMonth,
      dollarsPerMonth: keepAlive.dollarsPerMonth,
      basis: keepAlive.basis,
    },
    ...(pin ? { pin } : {}),
    scaleToZeroDollarsPerMonth: byId('scale-to-zero').dollarsPerMonth,
    alwaysOnDollarsPerMonth: byId('always-on').dollarsPerMonth,
    dollarsPerReplicaHour: report.dollarsPerReplicaHour,
  };
}

function clock(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

const StrategyCost = z.object({
  strategy: z.enum(['ping', 'pin']),
  replicaHoursPerMonth: z.number(),
  dollarsPerMonth: z.number(),
  basis: z.string(),
});

/**
 * The cost `keepwarm enable` priced, kept in the schedule's action memo, so `keepwarm status APP` (no spec at hand)
 * shows what `status SPEC` shows; `pricedAt` says how old the prices are.
 */
export const StoredKeepWarmCost = z.object({
  ping: StrategyCost,
  pin: StrategyCost.optional(),
  scaleToZeroDollarsPerMonth: z.number(),
  alwaysOnDollarsPerMonth: z.number(),
  dollarsPerReplicaHour: z.number(),
  pricedAt: z.string(),
});
export type StoredKeepWarmCost = z.infer<typeof StoredKeepWarmCost>;

/** The memo key the stored cost lives under. */
export const KEEP_WARM_COST_MEMO_KEY = 'keepWarmCost';

/** The stored cost in a schedule action's memo; undefined when there is none or it is not one (a hand-made schedule). */
export function readStoredKeepWarmCost(memo: Record<string, unknown> | undefined): StoredKeepWarmCost | undefined {
  const parsed = StoredKeepWarmCost.safeParse(memo?.[KEEP_WARM_COST_MEMO_KEY]);
  return parsed.success ? parsed.data : undefined;
}
