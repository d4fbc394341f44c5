import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RolloutPlanState, RolloutPlanStateInput } from '../shared/rollout-plan-types';
import { quickIo } from './retry-profiles';

const act = proxyActivities<Activities>(quickIo);

/**
 * The read behind `glm-ops rollout SPEC --plan`: one read-only activity on the worker (and so the platform adapter,
 * hub and volumes) the rollout would run on, so the plan sees what the rollout's skip checks would see. It writes
 * nothing: no download, compile, volume commit, deploy or search attribute.
 */
export async function rolloutPlanState(input: RolloutPlanStateInput): Promise<RolloutPlanState> {
  return act.readRolloutPlanState.executeWithOptions(
    { summary: `Read what a rollout of ${input.spec.app} would find: sentinel, marker, versions (read-only)` },
    [input],
  );
}
