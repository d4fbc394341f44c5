import { CancellationScope, log, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { APP, PHASE } from '../shared/search-attributes';
import { abortTune, tuneStatusQuery } from '../shared/tune-messages';
import type {
  AbortTuneInput,
  RunningTrial,
  TrialRecord,
  TuneInput,
  TuneResult,
  TuneState,
  TuneStatus,
} from '../shared/tune-types';
import { formatDuration, renderCurrentDetails, runningSince, type RunbookRow } from './current-details';
import { describeLoad } from './performance-gate-judge';
import type { SearchStep } from './tune-search';
import { gridSize } from './tune-space';
import { spentOn } from './tune-cost';
import { bestTrial } from './tune-trial-judge';

/** A preparation step of the tune (before the first trial), as its runbook shows it. */
export type PrepStep = 'weights' | 'kernels';

/**
 * Everything a tune records besides running its trials: the status query and the abort update (with its validator),
 * the search attributes `glm-ops tune status` finds it by, and the runbook the UI shows as current details. The
 * workflow calls `run`, `prep`, `recordPlan`, `startTrial`, `recordTrial` and `end`, and so reads as its steps (the
 * rollout keeps its state the same way, in RolloutState).
 */
export class TuneProgress {
  private readonly status: TuneStatus;
  private readonly startedAtMs = Date.now();
  /** The tune's work; an abort cancels it (the running trial's teardown still runs: it is not cancellable). */
  private readonly work = new CancellationScope();
  private readonly prepRows = new Map<PrepStep, RunbookRow>();
  private abortRequest?: AbortTuneInput;
  private endedBecause?: string;

  constructor(private readonly input: TuneInput) {
    const { spec, tune, tuneId, pricing } = input;
    this.status = {
      tuneId,
      app: spec.app,
      state: 'running',
      strategy: tune.strategy,
      objective: tune.objective,
      gridSize: gridSize(tune.space),
      trials: [],
      running: [],
      planned: [],
      pruned: [],
      best: null,
      spent: spentOn([]),
      budget: tune.budget,
      pricing,
    };
    setHandler(tuneStatusQuery, () => this.snapshot());
    setHandler(abortTune, (request) => this.requestAbort(request), {
      validator: (request) => this.validateAbort(request),
    });
    // The base app (never a trial's): `glm-ops tune status APP` finds the newest tune of APP by it.
    upsertSearchAttributes([
      { key: APP, value: spec.app },
      { key: PHASE, value: 'running' },
    ]);
    this.publish();
  }

  /** Every trial finished so far, in order. */
  get trials(): readonly TrialRecord[] {
    return this.status.trials;
  }

  /** Why the tune was aborted, when it was (`aborted by ana: …`). */
  get abortReason(): string | undefined {
    return this.abortRequest && `aborted by ${this.abortRequest.by}: ${this.abortRequest.reason}`;
  }

  /** Runs the tune's work where an abort can cancel it. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.work.run(work);
  }

  /** Runs one preparation step, its outcome and time in the runbook. */
  async prep<T>(step: PrepStep, body: () => Promise<T & { detail: string }>): Promise<T & { detail: string }> {
    const row: RunbookRow = { phase: step, state: 'running', time: runningSince(new Date(Date.now()).toISOString()) };
    this.prepRows.set(step, row);
    this.publish();
    const began = Date.now();
    try {
      const outcome = await body();
      Object.assign(row, { state: 'done', outcome: outcome.detail });
      return outcome;
    } catch (err) {
      Object.assign(row, { state: 'failed', outcome: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      row.time = formatDuration(Date.now() - began);
      this.publish();
    }
  }

  /** What the search plans and ruled out. */
  recordPlan(step: SearchStep, startingNow: string[]): void {
    this.status.planned = [...startingNow, ...step.planned];
    this.status.pruned = step.pruned;
    this.publish();
  }

  /** A trial starts: it leaves the planned list and shows as running. */
  startTrial(trial: RunningTrial): void {
    this.status.running = [trial];
    this.status.planned = this.status.planned.filter((key) => key !== trial.key);
    this.publish();
  }

  /** A trial ended (measured, infeasible, failed or aborted): recorded, the best and the spending updated. */
  recordTrial(record: TrialRecord): void {
    this.status.running = [];
    this.status.trials.push(record);
    this.status.best = bestTrial(this.status.trials);
    this.status.spent = spentOn(this.status.trials);
    this.publish();
  }

  /** Ends the tune: its state searchable, its result. */
  end(state: TuneState, endedBecause: string): TuneResult {
    this.status.state = state;
    this.status.running = [];
    if (state !== 'running' && state !== 'finished') this.status.planned = [];
    this.endedBecause = endedBecause;
    upsertSearchAttributes([{ key: PHASE, value: state }]);
    this.publish();
    log.info('tune ended', { tuneId: this.input.tuneId, state, endedBecause, trials: this.status.trials.length });
    return { ...this.snapshot(), chosen: this.status.best, endedBecause };
  }

  /** The status, a copy (a query's answer must not alias the state the workflow goes on changing). */
  snapshot(): TuneStatus {
    return {
      ...this.status,
      trials: [...this.status.trials],
      running: [...this.status.running],
      planned: [...this.status.planned],
      pruned: [...this.status.pruned],
      spent: { ...this.status.spent },
    };
  }

  private validateAbort(request: AbortTuneInput): void {
    if (this.status.state !== 'running') throw new Error(`the tune is already ${this.status.state}`);
    if (!request?.reason?.trim()) throw new Error('reason: say why the tune stops (it is recorded in the history)');
    if (!request?.by?.trim()) throw new Error('by: name who stops the tune (it is recorded in the history)');
  }

  /** Cancels the running trial (its teardown runs) and every step after; a second abort changes nothing. */
  private requestAbort(request: AbortTuneInput): TuneStatus {
    if (!this.abortRequest) {
      this.abortRequest = { reason: request.reason.trim(), by: request.by.trim() };
      log.warn('tune abort requested', { ...this.abortRequest, running: this.status.running.map((t) => t.app) });
      this.work.cancel();
      this.publish();
    }
    return this.snapshot();
  }

  /** The runbook: preparation, one row per trial (done and running), then the plan, the pruned points, the budget. */
  private publish(): void {
    const rows: RunbookRow[] = [...this.prepRows.values()];
    for (const trial of this.status.trials) rows.push(trialRow(trial));
    for (const trial of this.status.running) {
      rows.push({
        phase: `trial ${trial.index}`,
        state: 'running',
        outcome: `${trial.app}: ${trial.key}`,
        time: runningSince(trial.startedAt),
      });
    }
    const { planned, pruned, spent, budget } = this.status;
    const notes = [
      ...(planned.length > 0
        ? [`planned next (${planned.length}): ${planned.slice(0, 5).join('; ')}${planned.length > 5 ? '; …' : ''}`]
        : []),
      ...(pruned.length > 0 ? [`pruned without a trial: ${pruned.length} of ${this.status.gridSize} grid points`] : []),
      `spent: ${spent.trials} of ${budget.trials} trials, ${spent.gpuHours.toFixed(2)} GPU-hours${budget.gpuHours ? ` of ${budget.gpuHours}` : ''}, $${spent.dollars.toFixed(2)}${budget.dollars ? ` of $${budget.dollars}` : ''} at $${this.status.pricing.dollarsPerGpuHour}/GPU-hour (${this.status.pricing.source})`,
      ...workloadNote(this.status.trials),
      ...(this.abortReason ? [this.abortReason] : []),
      ...(this.endedBecause ? [`ended: ${this.endedBecause}`] : []),
    ];
    setCurrentDetails(renderCurrentDetails({ headline: this.headline(), rows, notes }));
  }

  private headline(): string {
    const { app, state, trials, running, best } = this.status;
    const bestLine = best
      ? `best so far trial ${best.index} (${best.key}): ${best.objectiveValue?.toFixed(1)}`
      : 'no trial meets the SLO yet';
    const elapsed = formatDuration(Date.now() - this.startedAtMs);
    if (state === 'running') {
      const now = running[0] ? `running trial ${running[0].index}` : 'preparing';
      return `${app}: tune ${now}, ${trials.length} done; ${bestLine}`;
    }
    return `${app}: tune ${state} after ${trials.length} trials in ${elapsed}; ${best ? `chosen trial ${best.index} (${best.key})` : 'nothing chosen'}`;
  }
}

/** One finished trial as a runbook row. */
function trialRow(trial: TrialRecord): RunbookRow {
  const figures = trial.figures;
  const measured = figures
    ? `${Math.round(figures.outputTokensPerSec)} tok/s, TTFT p95 ${Math.round(figures.ttftP95Ms)} ms${trial.meetsSlo ? ', meets the SLO' : `, misses: ${trial.sloMisses.join('; ')}`}`
    : '';
  const outcome = trial.outcome === 'measured' ? measured : `${trial.reason ?? ''}`;
  return {
    phase: `trial ${trial.index}`,
    state: trial.outcome,
    outcome: `${trial.key}: ${outcome}${trial.isTornDown ? '' : ' (app NOT torn down)'}`,
    time: formatDuration(trial.durationMs),
  };
}

/** The workload as the trials measured it (bench_serving's terms), once one has. */
function workloadNote(trials: readonly TrialRecord[]): string[] {
  const load = trials.find((trial) => trial.load !== null)?.load;
  return load ? [`workload: ${describeLoad(load)}`] : [];
}
