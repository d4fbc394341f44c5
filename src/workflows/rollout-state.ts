import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { ErrorType } from '../shared/errors';
import type { PerformanceQuestion, PerformanceReport } from '../shared/performance-types';
import type {
  DiagnosisReport,
  PhaseReport,
  RolloutInput,
  RolloutPhase,
  RolloutPhaseName,
  RolloutResult,
  RolloutStatus,
  SmokeResult,
} from '../shared/rollout-types';
import { ROLLOUT_PHASES } from '../shared/rollout-types';
import {
  DEPLOYED_VERSION,
  imageAndGpuAttributes,
  initialRolloutSearchAttributes,
  PHASE,
} from '../shared/search-attributes';
import type { Compensations } from './compensations';
import { formatDuration, renderCurrentDetails, runningSince, type RunbookRow } from './current-details';
import { performanceQuestionNote, performanceRows } from './performance-gate-details';
import {
  describeFailure,
  healthAttemptOf,
  symptomsOf,
  type FailureDescription,
  type Symptoms,
} from './failure-description';
import { abort, status } from '../shared/rollout-messages';

/** The deployment serving after a failed rollout's compensations (null: nothing serves, the app was stopped). */
export type ServingAfter = { version: number; sglangImage: string; gpuType: string } | null;

/** What a step reports when it ends: one line for the status and the report, and whether it had nothing to do. */
export interface PhaseOutcome {
  detail: string;
  isSkipped?: boolean;
}

/**
 * Rollouts started before the knownGood memo was dropped still write it when they succeed (their histories hold the
 * memo upsert). Once no such run is open anywhere: `deprecatePatch` this id, then delete the branch.
 */
const NO_KNOWN_GOOD_MEMO = 'no-known-good-memo';

/** Failed rollouts from before it left the attempted version's image beside no version in the list. */
const INDEX_SERVING_AFTER_COMPENSATION = 'index-serving-after-compensation';

/**
 * Everything a rollout records besides doing its steps: the status query and the abort update (with its validator),
 * per-phase state and timings, the phase search attribute, and the summary a failure or a success ends with. The
 * workflow function calls `run`, `phase`, `compensate` and `succeeded`, and so reads as its steps (the shape of
 * samples-typescript's message-passing/safe-message-handlers, which keeps a workflow's state in a class).
 */
export class RolloutState {
  private readonly status: RolloutStatus;
  private readonly startedAtMs = Date.now();
  /** The steps run in this scope; an abort cancels it, and compensation runs outside it. */
  private readonly work = new CancellationScope();
  private deployStartedAt?: string;
  /** The step that failed or was aborted, and why, once compensation began. */
  private failedIn?: { phase: RolloutPhase; cause: string };
  private servingAfter?: ServingAfter;

  /** `hasPerformancePhase`: the gate runs in this rollout (its phase is listed only then). */
  constructor(
    private readonly input: RolloutInput,
    hasPerformancePhase = false,
  ) {
    const { spec, rolloutId } = input;
    this.status = {
      app: spec.app,
      rolloutId,
      phase: 'validate',
      healthAttempt: 0,
      startedAt: new Date(this.startedAtMs).toISOString(),
      elapsedMs: 0,
      phases: ROLLOUT_PHASES.filter((name) => name !== 'performance' || hasPerformancePhase).map((name) => ({
        name,
        state: 'pending',
      })),
      compensations: [],
      diagnoses: [],
      warnings: [],
    };
    setHandler(status, () => this.snapshot());
    setHandler(abort, ({ reason }) => this.requestAbort(reason), { validator: (update) => this.validateAbort(update) });
    upsertSearchAttributes(initialRolloutSearchAttributes(spec));
  }

  /** Runs the steps where an abort can cancel them. */
  run(steps: () => Promise<void>): Promise<void> {
    return this.work.run(steps);
  }

  /** Runs one step: its phase shows in the status and the search attribute, with its timing and outcome. */
  async phase<T extends PhaseOutcome>(name: RolloutPhaseName, body: () => Promise<T>): Promise<T> {
    const report = this.report(name);
    const began = Date.now();
    report.state = 'running';
    report.startedAt = new Date(began).toISOString();
    this.setPhase(name);
    try {
      const outcome = await body();
      report.detail = outcome.detail;
      report.state = outcome.isSkipped ? 'skipped' : 'done';
      return outcome;
    } catch (err) {
      report.state = 'failed';
      report.detail = describeFailure(err, isCancellation(err) ? this.abortOf() : undefined).message;
      throw err;
    } finally {
      report.durationMs = Date.now() - began;
      this.publish();
    }
  }

  /** The lint warnings of the spec and the guide's expectation of each step on real hardware. */
  recordValidation(validation: { warnings: string[]; guideExpectations: Record<string, string> }): void {
    this.status.warnings = validation.warnings;
    for (const [name, expectation] of Object.entries(validation.guideExpectations)) {
      this.report(name as RolloutPhaseName).guideExpectation = expectation;
    }
  }

  /** The version serving before this rollout deploys (compensation returns to it). */
  recordPrevious(version: number | undefined): void {
    this.status.previousVersion = version;
  }

  /** The deploy begins now: from here on, a failure is diagnosed from the engine logs written since. */
  recordDeployStarted(): void {
    this.deployStartedAt = new Date(Date.now()).toISOString();
  }

  /** The version this rollout deployed. */
  recordDeployed(version: number): void {
    this.status.deployedVersion = version;
  }

  /** What the performance gate measured, judged and asks; a field given as undefined is cleared. */
  recordPerformance(update: { performance?: PerformanceReport; performanceQuestion?: PerformanceQuestion }): void {
    Object.assign(this.status, update);
    this.publish();
  }

  /** The /health attempt the new version passed on. */
  recordHealthAttempt(attempt: number): void {
    this.status.healthAttempt = attempt;
  }

  /**
   * After a failure, abort or cancellation: asks for a diagnosis while the failed version's logs are still there (only
   * once a deploy began, since before that no engine of this rollout logged; not after an abort: nothing failed), then runs the compensations, newest first; neither can be cancelled, since an
   * abort must not stop its own clean-up. Returns the failure the rollout ends with: the cause, the failed phase, the
   * diagnoses and every compensation's outcome in one message; CompensationFailed, naming what is left to do by hand,
   * if a compensation failed.
   */
  async compensate(
    err: unknown,
    compensations: Compensations,
    diagnose: (evidence: Symptoms & { since: string; failedPhase: RolloutPhase }) => Promise<DiagnosisReport[]>,
  ): Promise<ApplicationFailure> {
    const abortRequest = isCancellation(err) || this.status.abortRequested !== undefined ? this.abortOf() : undefined;
    const cause = describeFailure(err, abortRequest);
    const failedPhase = this.status.phase;
    if (failedPhase === 'health') this.status.healthAttempt = healthAttemptOf(err) ?? this.status.healthAttempt;
    const since = this.deployStartedAt;
    if (!abortRequest && since) {
      this.status.diagnoses = await CancellationScope.nonCancellable(() =>
        diagnose({ since, failedPhase, ...symptomsOf(err) }),
      );
    }
    this.failedIn = { phase: failedPhase, cause: cause.message };
    this.setPhase('compensating');
    await CancellationScope.nonCancellable(() =>
      compensations.runAll((outcome) => {
        this.status.compensations.push(outcome);
        this.publish();
      }),
    );
    this.indexServing();
    this.setPhase(abortRequest ? 'aborted' : 'failed');
    return this.failure(cause, failedPhase);
  }

  /** Ends a rollout whose steps all passed: phase done, the deployed version searchable, the report. */
  succeeded(outcome: { endpoint: string; smoke: SmokeResult[] }): RolloutResult {
    const { spec, rolloutId } = this.input;
    const deployedVersion = this.status.deployedVersion!;
    this.setPhase('done');
    upsertSearchAttributes([{ key: DEPLOYED_VERSION, value: deployedVersion }]);
    if (!patched(NO_KNOWN_GOOD_MEMO)) {
      upsertMemo({
        knownGood: {
          version: deployedVersion,
          rolloutId,
          sglangImage: spec.sglang.image,
          gpuType: spec.gpu.type,
          at: new Date(Date.now()).toISOString(),
        },
      });
    }
    log.info('rollout succeeded', { app: spec.app, version: deployedVersion });
    return {
      summary: this.headline(),
      app: spec.app,
      rolloutId,
      outcome: 'succeeded',
      deployedVersion,
      previousVersion: this.status.previousVersion,
      endpoint: outcome.endpoint,
      phases: this.status.phases,
      smoke: outcome.smoke,
      ...(this.status.performance ? { performance: this.status.performance } : {}),
      warnings: this.status.warnings,
      totalMs: Date.now() - this.startedAtMs,
    };
  }

  /**
   * What a compensation left serving: the version it restored (the platform's answer to the rollback, verified
   * healthy), or nothing once it stopped the app.
   */
  recordServingAfter(serving: ServingAfter): void {
    this.servingAfter = serving;
    this.status.servingVersion = serving?.version ?? null;
  }

  /**
   * Indexes what serves once the compensations ran, so the list shows the version, image and GPU that serve, not
   * the ones this rollout attempted (those stay in its status as `deployedVersion`, and in its summary). Nothing is
   * indexed when no compensation said what serves (nothing was deployed, or the way back failed).
   */
  private indexServing(): void {
    const serving = this.servingAfter;
    if (!serving || !patched(INDEX_SERVING_AFTER_COMPENSATION)) return;
    upsertSearchAttributes([{ key: DEPLOYED_VERSION, value: serving.version }, ...imageAndGpuAttributes(serving)]);
  }

  private failure(cause: FailureDescription, failedPhase: RolloutPhase): ApplicationFailure {
    const summary = [
      cause.message,
      `failed in phase ${failedPhase}`,
      ...this.status.diagnoses.map((d) => `diagnosis: ${d.title}: ${d.resolution} (${d.guideSection})`),
      ...this.status.compensations.map(
        (c) => `compensation ${c.outcome}: ${c.step}${c.outcome === 'failed' ? ` (${c.detail})` : ''}`,
      ),
    ].join('\n');
    const leftOver = this.status.compensations.filter((c) => c.outcome === 'failed');
    const details = [{ cause: cause.type, status: this.snapshot() }];
    if (leftOver.length > 0) {
      return ApplicationFailure.create({
        type: ErrorType.CompensationFailed,
        nonRetryable: true,
        message: `${summary}\nleft to do by hand: ${leftOver.map((c) => c.step).join('; ')}`,
        details,
      });
    }
    return ApplicationFailure.create({ type: cause.type, nonRetryable: true, message: summary, details });
  }

  private snapshot(): RolloutStatus {
    return { ...this.status, elapsedMs: Date.now() - this.startedAtMs };
  }

  private report(name: RolloutPhaseName): PhaseReport {
    return this.status.phases.find((p) => p.name === name)!;
  }

  private setPhase(phase: RolloutPhase): void {
    this.status.phase = phase;
    upsertSearchAttributes([{ key: PHASE, value: phase }]);
    this.publish();
  }

  /**
   * The runbook the UI shows as current details, kept up to date at every change of phase, step outcome and
   * compensation (not a command: replay is unaffected). Running steps show their start, ended ones their time.
   */
  private publish(): void {
    const rows: RunbookRow[] = this.status.phases.map((p) => ({
      phase: p.name,
      state: p.state,
      outcome: p.detail,
      time:
        p.state === 'running' && p.startedAt
          ? runningSince(p.startedAt)
          : p.durationMs !== undefined
            ? formatDuration(p.durationMs)
            : '',
    }));
    rows.push(...performanceRows(this.status.performance));
    const notes = [
      ...performanceQuestionNote(this.status.performanceQuestion),
      ...(this.failedIn ? [`cause: ${this.failedIn.cause}`] : []),
      ...this.status.diagnoses.map((d) => `diagnosis: ${d.title}: ${d.resolution} (${d.guideSection})`),
      ...this.status.compensations.map(
        (c) => `compensation ${c.outcome}: ${c.step}${c.outcome === 'failed' ? ` (${c.detail})` : ''}`,
      ),
      ...(this.status.abortRequested !== undefined ? [`abort requested: ${this.status.abortRequested}`] : []),
    ];
    setCurrentDetails(renderCurrentDetails({ headline: this.headline(), rows, notes }));
  }

  /** The outcome in one line: the UI's current details and the result lead with it. */
  private headline(): string {
    const { app, phase, deployedVersion, previousVersion } = this.status;
    const elapsed = formatDuration(Date.now() - this.startedAtMs);
    const versions = `v${deployedVersion}${previousVersion ? ` (previous v${previousVersion})` : ' (first version)'}`;
    switch (phase) {
      case 'done':
        return `${app}: ${versions} serving; all steps passed in ${elapsed}`;
      case 'compensating':
        return `${app}: ${this.endedHow()} in ${this.failedIn?.phase}; compensating`;
      case 'failed':
      case 'aborted':
        return `${app}: ${this.endedHow()} in ${this.failedIn?.phase} after ${elapsed}; ${this.wayBackOutcome()}`;
      default: {
        const step = this.status.phases.findIndex((p) => p.name === phase) + 1;
        return `${app}: running ${phase} (step ${step} of ${this.status.phases.length})${deployedVersion ? `, deployed ${versions}` : ''}`;
      }
    }
  }

  private endedHow(): string {
    return this.status.abortRequested !== undefined ? 'aborted' : 'failed';
  }

  /** What the compensations left serving: the way back, the app stopped, or what is left to do by hand. */
  private wayBackOutcome(): string {
    const compensations = this.status.compensations;
    const failed = compensations.filter((c) => c.outcome === 'failed');
    if (failed.length > 0) return `compensation failed, left to do by hand: ${failed.map((c) => c.step).join('; ')}`;
    if (compensations.length === 0) return 'nothing to undo';
    return `compensated: ${compensations.map((c) => c.step).join('; ')}`;
  }

  private abortOf(): { reason?: string } {
    return { reason: this.status.abortRequested };
  }

  /** True while a step runs: an abort is refused once compensation began or the rollout ended. */
  private isRunningSteps(): boolean {
    return (ROLLOUT_PHASES as readonly string[]).includes(this.status.phase);
  }

  private validateAbort({ reason }: { reason: string }): void {
    if (!this.isRunningSteps()) throw new Error(`the rollout is already ${this.status.phase}`);
    if (!reason?.trim()) throw new Error('reason: give a reason for the abort');
  }

  /** Cancels the running step (compensation follows); a second abort while the first is under way changes nothing. */
  private requestAbort(reason: string): { acceptedInPhase: string } {
    const acceptedInPhase = this.status.phase;
    if (this.status.abortRequested === undefined) {
      this.status.abortRequested = reason;
      log.warn('abort requested', { reason, phase: acceptedInPhase });
      this.work.cancel();
    }
    return { acceptedInPhase };
  }
}
