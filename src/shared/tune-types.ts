import type { SglangArgValue, Spec } from '../spec/schema';
import type { TunableModalField, TuneBudget, TuneObjective, TuneSpec, TuneStrategy } from '../spec/tune-schema';
import type { PerformanceFigures, PerformanceLoad } from './performance-types';

// Workflows see the spec's types through shared/ only.
export type { Spec };
export type { LeverValues, TuneBudget, TuneObjective, TuneSpace, TuneSpec } from '../spec/tune-schema';

// The tuner as the workflow, its trials, the search, the CLI and the tests see it: the candidates tried, what each
// measured (or why it could not be measured), what the search ruled out without a trial, and what was spent.

/** One point of the search space: the values of the levers only (everything else is the base spec's). */
export interface TuneCandidate {
  /** SGLang flags as `sglang.args` spells them; `false` = the flag omitted. */
  args: Record<string, SglangArgValue>;
  modal: Partial<Record<TunableModalField, number>>;
}

/**
 * measured: the load ran and its figures are recorded (they may still miss the SLO); infeasible: the candidate could
 * not serve (OOM while loading, /health never 200, the engine died under the load) — a result, not a failed tune;
 * failed: the trial itself broke (platform unreachable after retries): no statement about the candidate.
 */
export type TrialOutcome = 'measured' | 'infeasible' | 'failed';

/** One finished trial. */
export interface TrialRecord {
  /** 1-based, in the order trials started. */
  index: number;
  /** The candidate in one canonical line, e.g. `max-running-requests=48 mem-fraction-static=0.88 modal.maxContainers=1`. */
  key: string;
  candidate: TuneCandidate;
  /** The throw-away app the candidate ran as (never the serving one); torn down at the trial's end. */
  app: string;
  outcome: TrialOutcome;
  /** Why a trial is infeasible or failed, in one line (the diagnosis' title when one matched). */
  reason?: string;
  figures: PerformanceFigures | null;
  load: PerformanceLoad | null;
  /** Whether the figures meet every figure of the spec's `slo`; false unless measured. */
  meetsSlo: boolean;
  /** The SLO figures it misses, e.g. "TTFT p95 412 ms > 300 ms". */
  sloMisses: string[];
  /** The objective's value (tok/s, or tok/s per dollar-per-hour); null unless measured. */
  objectiveValue: number | null;
  /** GPU time the trial was billed for: its duration × GPUs per replica × replicas. */
  gpuHours: number;
  dollars: number;
  startedAt: string;
  durationMs: number;
  /** Whether the candidate app was torn down (false only when the teardown itself failed: `reason` says so). */
  isTornDown: boolean;
}

/** A grid point the search ruled out without a trial, and the guide's reason. */
export interface PrunedPoint {
  key: string;
  reason: string;
}

/** The GPU price the tune's budget and report use, resolved by the caller (the cost model's price). */
export interface TunePricing {
  dollarsPerGpuHour: number;
  /** spec, env or catalog. */
  source: string;
}

/** Input of the tune workflow: a validated spec and its resolved `tune` section; never a secret. */
export interface TuneInput {
  /** The serving app's spec: the base every candidate starts from (its app is never deployed by the tune). */
  spec: Spec;
  /** The spec's `tune`, or the `--space` file's, defaults filled in. */
  tune: TuneSpec;
  /** The workflow id, `tune/<app>/<ISO time>`; trials are its children. */
  tuneId: string;
  pricing: TunePricing;
  /**
   * The guide's time for one trial in seconds (the start-up estimate of the spec plus warm-up and the workload),
   * priced against `budget.gpuHours`/`dollars` before the first trial has finished; later trials are priced from the
   * ones done. @default 900 (the guide's 6–10 minute cold start on 8×B200 plus about five minutes of warm-up and load)
   */
  trialEstimateSec?: number;
  requestedBy?: string;
}

/** Input of one trial (a child workflow of the tune). */
export interface TrialInput {
  /** The base spec with the candidate applied and the throw-away app's name. */
  spec: Spec;
  index: number;
  key: string;
  candidate: TuneCandidate;
  /** The load the trial measures under (the tune's workload). */
  workload: NonNullable<TuneSpec['workload']>;
  objective: TuneObjective;
  pricing: TunePricing;
  /** Idempotency key of the trial's deploy. */
  rolloutId: string;
}

/** What the tune has spent so far. */
export interface TuneSpent {
  trials: number;
  gpuHours: number;
  dollars: number;
}

export type TuneState = 'running' | 'finished' | 'budget-exhausted' | 'aborted' | 'failed';

/** A trial in progress. */
export interface RunningTrial {
  index: number;
  key: string;
  app: string;
  startedAt: string;
}

/** The tune's state, for the `tuneStatus` query, `glm-ops tune status` and the result. */
export interface TuneStatus {
  tuneId: string;
  app: string;
  state: TuneState;
  strategy: TuneStrategy;
  objective: TuneObjective;
  /** Points in the full grid of the space. */
  gridSize: number;
  trials: TrialRecord[];
  running: RunningTrial[];
  /** Keys of the candidates the search will try next, in order. */
  planned: string[];
  pruned: PrunedPoint[];
  /** The measured trial that meets the SLO with the best objective so far; null when none does yet. */
  best: TrialRecord | null;
  spent: TuneSpent;
  budget: TuneBudget;
  pricing: TunePricing;
}

/** The tune's result: its last status, the chosen trial and why the search ended. */
export interface TuneResult extends TuneStatus {
  chosen: TrialRecord | null;
  /** One line: "every remaining point pruned or tried", "budget: 12 trials", "aborted by ana: …". */
  endedBecause: string;
}

/** Who stops a tune and why (`glm-ops tune abort`); recorded in the history. */
export interface AbortTuneInput {
  reason: string;
  by: string;
}
