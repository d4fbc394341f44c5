import type { HealthOutcome } from '../probes/health-probe';
import type { HealthWaitProgress } from '../shared/rollout-types';

/** Heartbeat details of the health wait: what a retry resumes from. */
export interface HealthHeartbeat extends HealthWaitProgress {
  /** When the wait's first attempt began (wall clock): the result's elapsed time and the hard limit count from it. */
  startedAtMs: number;
  /**
   * Time spent polling /health over every attempt so far, up to this beat: the part of the startup timeout the engine
   * has used. Missing in beats of workers from before it existed (then nothing is known to be used).
   */
  polledMs?: number;
  /** When this beat was sent; the time from it to the next attempt is an outage, not the engine's. */
  atMs?: number;
  outcomes: Partial<Record<HealthOutcome, number>>;
}

/**
 * Extra wall-clock time, beyond the startup budget, that outages may add to one health wait before it gives up: as
 * long as the budget itself, and at least 10 minutes (a Temporal server restart, a worker replaced a few times).
 */
export function outageAllowanceMs(budgetMs: number): number {
  return Math.max(budgetMs, 10 * 60_000);
}

/** When one attempt of the health wait may stop polling, and what it was charged. */
export interface HealthWaitDeadline {
  startedAtMs: number;
  /** Polling time charged before this attempt. */
  chargedMs: number;
  /** Time between the last recorded beat and this attempt: lost to a dead worker or an unreachable server. */
  uncountedMs: number;
  /** This attempt's deadline for the poll (absolute, `Date.now()` ms). */
  deadlineMs: number;
  /** The hard limit: `startedAtMs + budget + outageAllowanceMs(budget)`; a wait never polls past it (bar one probe). */
  hardDeadlineMs: number;
  /** True when this attempt resumes an earlier one: its first probe is never cut short by the deadline. */
  isResumed: boolean;
}

/**
 * The deadline of a health-wait attempt. The engine is charged only the time it was actually polled: a resumed
 * attempt gets what is left of the startup budget from now, not from when the wait first began, so the time its
 * worker could not reach Temporal (the gap from the last recorded beat to now) does not count against the engine.
 * A truly dead engine still times out: polled time adds up across attempts, and the hard limit bounds the wall clock.
 */
export function healthWaitDeadline(budgetMs: number, nowMs: number, resumed?: HealthHeartbeat): HealthWaitDeadline {
  const startedAtMs = resumed?.startedAtMs ?? nowMs;
  const chargedMs = Math.min(budgetMs, Math.max(0, resumed?.polledMs ?? 0));
  const hardDeadlineMs = startedAtMs + budgetMs + outageAllowanceMs(budgetMs);
  return {
    startedAtMs,
    chargedMs,
    uncountedMs: resumed ? Math.max(0, nowMs - (resumed.atMs ?? startedAtMs + chargedMs)) : 0,
    deadlineMs: Math.min(nowMs + budgetMs - chargedMs, hardDeadlineMs),
    hardDeadlineMs,
    isResumed: resumed !== undefined,
  };
}
