import * as os from 'node:os';
import { activityInfo } from '@temporalio/activity';
import type { Platform } from '../platforms/platform';
import type { RolloutPlanState, RolloutPlanStateInput } from '../shared/rollout-plan-types';
import { withFailureTypes } from './to-application-failure';

/** Activities of `glm-ops rollout --plan`: reads only, never a write. */
export const createRolloutPlanActivities = (deps: { platformNamed(name: 'local' | 'modal'): Platform }) =>
  withFailureTypes({
    /**
     * What a rollout of the spec would find, read with the checks its steps make: the weights sentinel check (the
     * touched-files re-hash of `weightsStatus`, never a full one), the kernel marker check, the version serving now
     * and the platform's version history. Nothing is downloaded, compiled, committed or deployed.
     */
    async readRolloutPlanState(input: RolloutPlanStateInput): Promise<RolloutPlanState> {
      const { spec } = input;
      const platform = deps.platformNamed(spec.platform);
      const [weights, kernels, current, history] = await Promise.all([
        platform.weightsStatus(spec, { full: false }),
        platform.kernelCacheStatus(spec),
        platform.currentDeployment(spec.app),
        platform.history(spec.app),
      ]);
      return {
        weights: {
          state: weights.state,
          ...(weights.commit ? { commit: weights.commit } : {}),
          path: weights.path,
          fileCount: weights.fileCount,
          bytes: weights.bytes,
          problems: weights.problems,
        },
        kernels: {
          state: kernels.state,
          reasons: kernels.reasons,
          path: kernels.path,
          ...(kernels.marker ? { markerSmArch: kernels.marker.smArch } : {}),
        },
        current: current ? { version: current.version, deployedAt: current.deployedAt, spec: current.spec } : null,
        latestVersion: Math.max(0, ...history.map((deployment) => deployment.version)),
        readBy: `worker ${os.hostname()} (pid ${process.pid}) on task queue ${activityInfo().taskQueue}`,
      };
    },
  });

/** The plan activities' surface. */
export type RolloutPlanActivities = ReturnType<typeof createRolloutPlanActivities>;
