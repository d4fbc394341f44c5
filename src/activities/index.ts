import type { TemporalUi } from '../config/temporal-ui-links';
import type { Platform } from '../platforms/platform';
import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';
import { runBench } from '../loadgen/run-bench';
import { createPerformanceActivities, type PerformanceActivityDeps } from './performance-activities';
import { createServingActivities } from './serving-activities';
import { createSpecActivities } from './spec-activities';
import { createStorageActivities } from './storage-activities';
import { createWorkerInfoActivities } from './worker-info-activities';
import { createKeepWarmActivities } from './keep-warm-activities';
import { createNotifyActivities } from './notify-activities';
export { HEARTBEAT_SEND_INTERVAL } from './keep-heartbeating';
import { createUpgradeActivities } from './upgrade-activities';
import { createVerificationActivities } from './verification-activities';
import { createRolloutPlanActivities } from './rollout-plan-activities';

/** Everything activities need from the outside world; secrets are resolved here and never travel in arguments. */
export interface ActivityDeps {
  /** The platforms this worker can drive; a worker without Modal credentials has no `modal`. */
  platforms: Partial<Record<'local' | 'modal', Platform>>;
  resolveSecret(name: string): string;
  /** Minimum gap between storage heartbeats. @default 1000 */
  heartbeatIntervalMs?: number;
  /** The performance gate's load generator and baseline reader (see performance-activities.ts). */
  performance?: Pick<PerformanceActivityDeps, 'runBench' | 'readBaseline'>;
  /** The Temporal Web UI that notifications link to, when the worker knows where it is. */
  temporalUi?: TemporalUi;
  /** How long one notification POST may take before it is retried. @default 10_000 */
  notifyRequestTimeoutMs?: number;
}

/** Thrown when a spec names a platform this worker was not given. */
export class PlatformNotConfiguredError extends DomainError {
  readonly errorType = ErrorType.PlatformUnavailable;
  constructor(name: string) {
    super(`this worker has no ${name} platform configured: run a worker for the ${name} task queue`);
  }
}

/** All activities of the project, bound to their dependencies. */
export const createActivities = (deps: ActivityDeps) => {
  const platformNamed = (name: 'local' | 'modal'): Platform => {
    const platform = deps.platforms[name];
    if (!platform) throw new PlatformNotConfiguredError(name);
    return platform;
  };
  return {
    ...createWorkerInfoActivities(),
    ...createSpecActivities(),
    ...createStorageActivities({
      platformFor: (spec) => platformNamed(spec.platform),
      heartbeatIntervalMs: deps.heartbeatIntervalMs,
    }),
    ...createServingActivities({ platformNamed, resolveSecret: deps.resolveSecret }),
    ...createKeepWarmActivities({ platformNamed, resolveSecret: deps.resolveSecret }),
    ...createUpgradeActivities({ platformNamed }),
    ...createVerificationActivities({ platformNamed }),
    ...createRolloutPlanActivities({ platformNamed }),
    ...createPerformanceActivities({
      platformNamed,
      resolveSecret: deps.resolveSecret,
      runBench,
      ...deps.performance,
    }),
    ...createNotifyActivities({
      resolveSecret: deps.resolveSecret,
      temporalUi: deps.temporalUi,
      requestTimeoutMs: deps.notifyRequestTimeoutMs,
    }),
  };
};

/** The activity surface workflows proxy (types only). */
export type Activities = ReturnType<typeof createActivities>;
