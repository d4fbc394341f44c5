import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RolloutStatus } from './rollout-types';

/** The rollout's phase, attempts and per-phase timings. */
export const status = defineQuery<RolloutStatus>('status');

/**
 * Abort the rollout: the running step is cancelled and compensations run. Returns the phase it was in; refused with
 * an empty reason, and once compensation began or the rollout ended.
 */
export const abort = defineUpdate<{ acceptedInPhase: string }, [{ reason: string }]>('abort');
