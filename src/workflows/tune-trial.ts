import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { DiagnosisReport } from '../shared/rollout-types';
import type { PerformanceMeasurement } from '../shared/performance-types';
import type { TrialInput, TrialOutcome, TrialRecord } from '../shared/tune-types';
import { formatDuration, renderCurrentDetails, runningSince, type RunbookRow } from './current-details';
import { describeFailure, symptomsOf } from './failure-description';
import { platformStartMarginSec, specHealthCheck, waitUntilHealthy } from './health-wait';
import { requestTimeScale } from './performance-gate';
import { compensation, diagnosis, endpointCheck, performanceMeasure, remoteControl } from './retry-profiles';
import { stepSummary } from './step-summary';
import { billedSeconds, trialCost, type TrialTimeScales } from './tune-cost';
import { candidateGpus, judgeTrial } from './tune-trial-judge';

type Spec = TrialInput['spec'];
type AppRef = { app: string; platform: 'local' | 'modal' };

const control = proxyActivities<Activities>(remoteControl);
const undo = proxyActivities<Activities>(compensation);

/**
 * Failures that say the candidate cannot serve (a measured result, "this point is infeasible"): the engine died while
 * loading or under the warm-up (an OOM above the GPU's memory fraction), /health never answered, the platform refused
 * its flags. Anything else (the platform unreachable after the retries) says nothing about the candidate: failed.
 */
const INFEASIBLE_TYPES: readonly string[] = [
  ErrorType.EngineCrashed,
  ErrorType.HealthTimeout,
  ErrorType.WarmupFailed,
  ErrorType.SpecInvalid,
];

const STEPS = ['deploy', 'health', 'warmup', 'measure', 'teardown'] as const;
type Step = (typeof STEPS)[number];

interface TeardownOutcome {
  isTornDown: boolean;
  problem?: string;
  detail: string;
}

/** What the trial's steps leave for its record. */
interface Measured {
  outcome: TrialOutcome;
  reason?: string;
  measurement?: PerformanceMeasurement;
}

/**
 * One trial of a tune (a child workflow): deploy the candidate as its own throw-away app, wait for /health, warm up,
 * measure under the tune's workload, judge, tear down. The teardown runs whatever happened (a failure, an OOM, the
 * tune's abort cancelling this workflow) and cannot be cancelled itself. A candidate that OOMs or never turns healthy
 * is recorded `infeasible` with the diagnosis from its engine logs; the trial itself does not fail. Never touches the
 * serving app: the spec it gets is already renamed (tune-candidate-spec.ts).
 */
export async function tuneTrial(input: TrialInput): Promise<TrialRecord> {
  const { spec } = input;
  const ref: AppRef = { app: spec.app, platform: spec.platform };
  const runbook = new TrialRunbook(input);
  const startedAtMs = Date.now();
  let startupEndMs: number | undefined;
  let measured: Measured | undefined;
  let isCancelled = false;
  let teardown: TeardownOutcome | undefined;
  // From the deploy on, the candidate app may exist (a deploy that timed out may still have created it).
  const since = new Date(startedAtMs).toISOString();
  try {
    const marginSec = platformStartMarginSec(spec.platform, spec.warmup.timeout);
    try {
      const { version } = await runbook.step('deploy', () => deploy(input));
      await runbook.step('health', () => healthOf(spec, version, marginSec));
      startupEndMs = Date.now();
      await runbook.step('warmup', () => warmup(spec, version));
      const measurement = await runbook.step('measure', () => measure(input, version));
      measured = judgeMeasurement(measurement, await diagnoseIfDied(measurement, ref, spec, since));
    } catch (err) {
      if (isCancellation(err)) throw err;
      measured = await CancellationScope.nonCancellable(() => classify(err, ref, spec, since, runbook.current));
    }
  } catch (err) {
    isCancelled = isCancellation(err);
    throw err;
  } finally {
    teardown = await CancellationScope.nonCancellable(() => runbook.step('teardown', () => tearDown(ref)));
    if (isCancelled && !teardown.isTornDown) {
      // Cancelled with the app still up: the tune must hear it (a cancellation would say the teardown ran).
      // eslint-disable-next-line no-unsafe-finally
      throw ApplicationFailure.create({
        type: ErrorType.CompensationFailed,
        nonRetryable: true,
        message: teardown.problem ?? `teardown of ${ref.app} failed`,
      });
    }
  }
  const endMs = Date.now();
  const startupMs = (startupEndMs ?? endMs) - startedAtMs;
  const seconds = billedSeconds({ startupMs, restMs: endMs - startedAtMs - startupMs }, trialTimeScales(spec));
  const cost = trialCost(spec, seconds, input.pricing);
  const measurement = measured!.measurement;
  const judgement =
    measured!.outcome === 'measured' && measurement
      ? judgeTrial({
          figures: measurement.figures,
          load: measurement.load,
          problems: measurement.problems,
          slo: spec.slo,
          objective: input.objective,
          pricing: input.pricing,
          gpus: candidateGpus(spec),
        })
      : { meetsSlo: false, sloMisses: [], objectiveValue: null };
  const reasons = [measured!.reason, teardown.problem].filter((r): r is string => r !== undefined);
  const record: TrialRecord = {
    index: input.index,
    key: input.key,
    candidate: input.candidate,
    app: spec.app,
    outcome: measured!.outcome,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    figures: measurement?.figures ?? null,
    load: measurement?.load ?? null,
    ...judgement,
    gpuHours: cost.gpuHours,
    dollars: cost.dollars,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: endMs - startedAtMs,
    isTornDown: teardown.isTornDown,
  };
  runbook.finish(record);
  return record;
}

/**
 * The time scales a trial runs at: the local twin starts engines at `local.timeScale` and serves requests at the
 * emulator's request time scale; both are 1 on Modal and for a real engine.
 */
export function trialTimeScales(spec: Spec): TrialTimeScales {
  const isTwin = spec.platform === 'local' && spec.local.engine === 'emulator';
  return { startup: isTwin ? spec.local.timeScale : 1, requests: requestTimeScale(spec) };
}

async function deploy(input: TrialInput): Promise<{ version: number; detail: string }> {
  const { spec } = input;
  const deployment = await control.deploy.executeWithOptions(
    { summary: stepSummary(`Deploy trial ${input.index} as ${spec.app}`) },
    [{ spec, rolloutId: input.rolloutId, isTrial: true }],
  );
  return { version: deployment.version, detail: `v${deployment.version}: ${input.key}` };
}

async function healthOf(spec: Spec, version: number, marginSec: number): Promise<{ detail: string }> {
  const passed = await waitUntilHealthy({ app: spec.app, platform: spec.platform }, specHealthCheck(spec, version), {
    summary: stepSummary(`Health wait for ${spec.app} v${version}`),
    marginSec,
  });
  return { detail: `passed on attempt ${passed.attempt}` };
}

async function warmup(spec: Spec, version: number): Promise<{ detail: string }> {
  const results = await proxyActivities<Activities>(endpointCheck(spec.warmup.timeout)).warmup.executeWithOptions(
    { summary: stepSummary(`Warmup of ${spec.app}`) },
    [endpointOf(spec, version, spec.warmup.timeout)],
  );
  return { detail: results.map((r) => `${r.name} ${Math.round(r.durationMs)} ms`).join(', ') };
}

async function measure(input: TrialInput, version: number): Promise<PerformanceMeasurement & { detail: string }> {
  const { spec } = input;
  const measurement = await proxyActivities<Activities>(
    performanceMeasure(spec.warmup.timeout),
  ).measurePerformance.executeWithOptions({ summary: stepSummary(`Measure ${spec.app} under the tune's workload`) }, [
    {
      app: spec.app,
      platform: spec.platform,
      secretName: spec.secrets.apiKey,
      servedName: spec.model.servedName,
      version,
      load: input.workload,
      timeScale: requestTimeScale(spec),
      probeTimeoutSec: Math.min(spec.warmup.timeout, 30),
    },
  ]);
  const figures = measurement.figures;
  const detail = figures
    ? `${Math.round(figures.outputTokensPerSec)} tok/s, TTFT p95 ${Math.round(figures.ttftP95Ms)} ms, ${figures.completed} done, ${figures.failed} failed`
    : `nothing measured: ${measurement.problems.join('; ')}`;
  return { ...measurement, detail };
}

/** Stops the candidate app; an app the platform never recorded has nothing to stop. Never throws. */
async function tearDown(ref: AppRef): Promise<TeardownOutcome> {
  try {
    await undo.stopApp.executeWithOptions({ summary: stepSummary(`Stop ${ref.app} (the trial's app)`) }, [ref]);
    return { isTornDown: true, detail: 'stopped' };
  } catch (err) {
    const failure = describeFailure(err);
    if (failure.type === ErrorType.NotFound) return { isTornDown: true, detail: 'nothing deployed' };
    const problem = `teardown failed, stop ${ref.app} by hand: ${failure.message}`;
    log.error('trial teardown failed', { app: ref.app, detail: failure.message });
    return { isTornDown: false, problem, detail: problem };
  }
}

/**
 * The measurement as the trial's outcome: a load that could not run, or an engine that died under it (its /health
 * failing after the load), makes the point infeasible; anything else is measured and judged against the SLO.
 */
function judgeMeasurement(measurement: PerformanceMeasurement, diagnoses: DiagnosisReport[]): Measured {
  const died = measurement.figures === null || measurement.problems.some((p) => p.startsWith('/health after'));
  if (!died) return { outcome: 'measured', measurement };
  return { outcome: 'infeasible', reason: reasonOf(diagnoses, measurement.problems.join('; ')), measurement };
}

/** Reads the engine logs when the engine died under the load; [] otherwise. */
async function diagnoseIfDied(
  measurement: PerformanceMeasurement,
  ref: AppRef,
  spec: Spec,
  since: string,
): Promise<DiagnosisReport[]> {
  const died = measurement.figures === null || measurement.problems.some((p) => p.startsWith('/health after'));
  return died ? diagnose(ref, spec, { since, failedPhase: 'performance' }) : [];
}

/**
 * A failed step as the trial's outcome: infeasible, with the diagnosis from the engine logs that names why, or failed
 * (the trial broke: no engine of the candidate to read, nothing to diagnose).
 */
async function classify(
  err: unknown,
  ref: AppRef,
  spec: Spec,
  since: string,
  failedPhase: Step = 'deploy',
): Promise<Measured> {
  const cause = describeFailure(err);
  if (!INFEASIBLE_TYPES.includes(cause.type)) return { outcome: 'failed', reason: cause.message };
  const diagnoses = await diagnose(ref, spec, { since, failedPhase, ...symptomsOf(err) });
  return { outcome: 'infeasible', reason: reasonOf(diagnoses, cause.message) };
}

/** The diagnosis' title when one matched (it names the OOM), else the failure's own message. */
function reasonOf(diagnoses: DiagnosisReport[], fallback: string): string {
  const [first] = diagnoses;
  return first ? `${first.title} (${first.guideSection}): ${fallback}` : fallback;
}

async function diagnose(
  ref: AppRef,
  spec: Spec,
  evidence: { since: string; failedPhase: string; probeOutcomes?: string[]; warmupFailures?: string[] },
): Promise<DiagnosisReport[]> {
  try {
    return await proxyActivities<Activities>(diagnosis).diagnoseApp.executeWithOptions(
      { summary: stepSummary(`Diagnosis of ${ref.app} from its engine logs`) },
      [{ ...ref, secretName: spec.secrets.apiKey, launchArgs: spec.sglang.args, ...evidence }],
    );
  } catch (err) {
    log.warn('diagnosis unavailable', { detail: describeFailure(err).message });
    return [];
  }
}

function endpointOf(spec: Spec, version: number, timeoutSec: number) {
  return {
    app: spec.app,
    platform: spec.platform,
    secretName: spec.secrets.apiKey,
    servedName: spec.model.servedName,
    version,
    timeoutSec,
  };
}

/** The trial's runbook in the UI's current details: one row per step, then the outcome. */
class TrialRunbook {
  private readonly rows = new Map<Step, RunbookRow & { startedAtMs?: number }>();
  private headline: string;
  /** The step running now (the one a failure happened in). */
  current?: Step;

  constructor(private readonly input: TrialInput) {
    for (const step of STEPS) this.rows.set(step, { phase: step, state: 'pending' });
    this.headline = `${input.spec.app}: trial ${input.index} running (${input.key})`;
    this.publish();
  }

  async step<T extends { detail: string }>(step: Step, body: () => Promise<T>): Promise<T> {
    const row = this.rows.get(step)!;
    const began = Date.now();
    this.current = step;
    Object.assign(row, { state: 'running', time: runningSince(new Date(began).toISOString()) });
    this.publish();
    try {
      const outcome = await body();
      Object.assign(row, { state: 'done', outcome: outcome.detail });
      return outcome;
    } catch (err) {
      const failure = isCancellation(err) ? 'cancelled (the tune was aborted)' : describeFailure(err).message;
      Object.assign(row, { state: isCancellation(err) ? 'cancelled' : 'failed', outcome: failure });
      throw err;
    } finally {
      row.time = formatDuration(Date.now() - began);
      this.publish();
    }
  }

  finish(record: TrialRecord): void {
    const what =
      record.outcome === 'measured'
        ? `${record.meetsSlo ? 'meets the SLO' : `misses the SLO (${record.sloMisses.join('; ')})`}, objective ${record.objectiveValue?.toFixed(1)}`
        : `${record.outcome}: ${record.reason ?? ''}`;
    this.headline = `${record.app}: trial ${record.index} ${what}; ${record.isTornDown ? 'torn down' : 'NOT torn down'}`;
    this.publish();
  }

  private publish(): void {
    const rows = STEPS.map((step) => this.rows.get(step)!);
    setCurrentDetails(renderCurrentDetails({ headline: this.headline, rows, notes: [`candidate: ${this.input.key}`] }));
  }
}
