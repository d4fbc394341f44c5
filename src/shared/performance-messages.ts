import { defineUpdate } from '@temporalio/workflow';
import type { DecideInput, PerformanceDecision } from './performance-types';

/**
 * Answers a rollout's inconclusive performance gate: `promote` keeps the new version, `abort` rolls it back. Refused
 * unless the gate is waiting for a decision, and without a reason or a name; the accepted decision (who, why, when)
 * is in the update's history event, the status and the rollout's result.
 */
export const decide = defineUpdate<PerformanceDecision, [DecideInput]>('decide');
