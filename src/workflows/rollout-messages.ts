import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RolloutStatus } from '../shared/rollout-types';

/** The rollout's phase, attempts and per-phase timings. */
export const status = defineQuery<RolloutStatus>('status');

/** Abort the rollout: the running step is cancelled and compensations run. Returns the phase it was in. */
export const abort = defineUpdate<{ acceptedInPhase: string }, [{ reason: string }]>('abort');

/** Fire-and-forget form of abort, for callers that cannot wait for an update result. */
export const abortSignal = defineSignal<[{ reason: string }]>('abortSignal');
