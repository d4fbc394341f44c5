import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AbortTuneInput, TuneStatus } from './tune-types';

/** The tune's trials done, running and planned, the best so far and the budget spent. */
export const tuneStatusQuery = defineQuery<TuneStatus>('tuneStatus');

/**
 * Stops a tune cleanly: the running trial is cancelled (its candidate app torn down), no new trial starts, and the
 * tune ends `aborted` with the trials finished so far. Refused without a reason or a name, or once the tune ended.
 */
export const abortTune = defineUpdate<TuneStatus, [AbortTuneInput]>('abortTune');
