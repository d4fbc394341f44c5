import type { Spec } from '../spec/schema';
import type { PerformanceQuestion, PerformanceReport } from './performance-types';

/**
 * The steps of a rollout, in order, as the guide's pipeline names them; `performance` (the gate) only in rollouts
 * whose spec enables it.
 */
export const ROLLOUT_PHASES = [
  'validate',
  'weights',
  'kernels',
  'deploy',
  'health',
  'warmup',
  'smoke',
  'performance',
] as const;

/** One step of a rollout. */
export type RolloutPhaseName = (typeof ROLLOUT_PHASES)[number];

/** Where the whole run is: a step, or one of the end states. */
export type RolloutPhase = RolloutPhaseName | 'compensating' | 'done' | 'failed' | 'aborted';

/** Input of the rollout workflow: an already-validated spec (JSON-plain) and the run's identity; never a secret. */
export interface RolloutInput {
  spec: Spec;
  /** Idempotency key for every mutating step (deploy, compile). */
  rolloutId: string;
  requestedBy?: string;
}

/** The state of one step, for the status query and the report. */
export interface PhaseReport {
  name: RolloutPhaseName;
  state: 'pending' | 'running' | 'done' | 'skipped' | 'failed';
  startedAt?: string;
  durationMs?: number;
  /** One line: what happened (e.g. "sentinel valid, download skipped", "passed on attempt 12"). */
  detail?: string;
  /** The guide's expectation for this step on real hardware, e.g. "3–5 min" (section 7). */
  guideExpectation?: string;
}

/** A named smoke-test result. */
export interface SmokeResult {
  name: string;
  passed: boolean;
  detail: string;
  durationMs: number;
}

/** A diagnosis matched from the engine's logs against the guide's triage tables. */
export interface DiagnosisReport {
  id: string;
  title: string;
  severity: 'error' | 'warning' | 'benign';
  evidence: string[];
  likelyCause: string;
  resolution: string;
  guideSection: string;
  /**
   * How sure the diagnosis is: `confirmed` by a log line that names the cause, `likely` from the symptoms alone (an
   * exit code, probe outcomes, failed checks), `possible` when the evidence fits other causes as well. Absent in
   * diagnoses recorded before it existed.
   */
  confidence?: DiagnosisConfidence;
  /** The one change to make, short enough for the report's `fix:` line (e.g. `lower --mem-fraction-static 0.88 → 0.85`). */
  fix?: string;
}

/** How sure a diagnosis is, surest first. */
export const DIAGNOSIS_CONFIDENCES = ['confirmed', 'likely', 'possible'] as const;

/** How sure a diagnosis is. */
export type DiagnosisConfidence = (typeof DIAGNOSIS_CONFIDENCES)[number];

/** A compensation that ran (or failed) after a failure or abort. */
export interface CompensationReport {
  step: string;
  outcome: 'done' | 'failed';
  detail: string;
}

/** What the status query returns while the rollout runs and after it ends. */
export interface RolloutStatus {
  app: string;
  rolloutId: string;
  phase: RolloutPhase;
  /**
   * The /health attempt the workflow last heard of: 0 while the health wait runs, then the attempt it passed or gave
   * up on. The wait is one heartbeating activity (so polling adds no history), and a workflow cannot read its own
   * activity's heartbeats: the live count is in the pending `waitForHealth` activity's {@link HealthWaitProgress},
   * which `glm-ops status` reads from the workflow's description.
   */
  healthAttempt: number;
  startedAt: string;
  elapsedMs: number;
  phases: PhaseReport[];
  /** The version serving when this rollout deployed. */
  previousVersion?: number;
  /**
   * The version this rollout deployed. After a failure or abort it is the version it attempted, which no longer
   * serves: what serves then is {@link servingVersion}.
   */
  deployedVersion?: number;
  /**
   * What serves once a failed or aborted rollout's compensations ran, as the platform said (null: nothing, the app
   * was stopped); unset while running, after a success (then it is `deployedVersion`), and when the platform could
   * not say.
   */
  servingVersion?: number | null;
  compensations: CompensationReport[];
  diagnoses: DiagnosisReport[];
  warnings: string[];
  abortRequested?: string;
  /** What the performance gate measured and judged (and decided, when it was inconclusive). */
  performance?: PerformanceReport;
  /** The gate's open question while the rollout waits for `glm-ops decide`. */
  performanceQuestion?: PerformanceQuestion;
}

/** What the health wait heartbeats (and a retry resumes from); clients read the live attempt from it. */
export interface HealthWaitProgress {
  /** The /health probe being made, from 1. */
  attempt: number;
}

/** The report a successful rollout returns. */
export interface RolloutResult {
  /** The outcome in one line, first so that the UI's result view leads with it: "demo: v2 (previous v1) serving; …". */
  summary: string;
  app: string;
  rolloutId: string;
  outcome: 'succeeded';
  deployedVersion: number;
  previousVersion?: number;
  endpoint: string;
  phases: PhaseReport[];
  smoke: SmokeResult[];
  /** The performance gate's figures, verdict and decision, when the rollout had the phase. */
  performance?: PerformanceReport;
  warnings: string[];
  totalMs: number;
}

/** Input of the incident-path rollback workflow. */
export interface RollbackInput {
  app: string;
  platform: 'local' | 'modal';
  /** The version to return to; omitted = the version before the current one. */
  toVersion?: number;
  requestedBy?: string;
}

/** Result of the incident-path rollback. */
export interface RollbackResult {
  app: string;
  fromVersion?: number;
  toVersion: number;
  healthAttempts: number;
  endpoint: string;
}
