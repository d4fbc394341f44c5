import {
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import { decide } from '../shared/performance-messages';
import { PERFORMANCE_MEMO } from '../shared/performance-types';
import type {
  DecideInput,
  PerformanceBaseline,
  PerformanceDecision,
  PerformanceQuestion,
  PerformanceReport,
} from '../shared/performance-types';
import type { RolloutInput } from '../shared/rollout-types';
import { describeLoad, judge } from './performance-gate-judge';
import { performanceMeasure, quickIo } from './retry-profiles';
import { stepSummary } from './step-summary';

type Spec = RolloutInput['spec'];

/**
 * Rollouts from before the gate run no performance phase and mark their version verified right after the smoke
 * tests; newer ones measure first and mark it only once the gate passed (or a person promoted it).
 */
export const PERFORMANCE_GATE = 'performance-gate';

/** The memo key under which a rollout records the figures its gate measured (the next rollout's baseline). */

const act = proxyActivities<Activities>(quickIo);

/** Where the gate writes what it measured and asks, for the status query and the result. */
export interface PerformanceRecorder {
  recordPerformance(update: { performance?: PerformanceReport; performanceQuestion?: PerformanceQuestion }): void;
}

/**
 * The rollout's performance phase: measure the new version under the spec's load, judge it against `slo` (and the
 * version it replaces), then pass, fail (PerformanceGateFailed: compensation follows) or, when the evidence does not
 * decide, pause and ask: a `decide` update or, after `slo.onInconclusive.timeout`, the spec's default.
 */
export class PerformanceGate {
  /** Whether this rollout has the phase: the spec enables it and the run is not a replay from before the gate. */
  readonly isOn: boolean;
  private question?: PerformanceQuestion;
  private decision?: PerformanceDecision;

  constructor(private readonly spec: Spec) {
    this.isOn = spec.slo.enabled === true && patched(PERFORMANCE_GATE);
    setHandler(decide, (input) => this.accept(input), { validator: (input) => this.validate(input) });
  }

  /** Measures, judges and acts on the verdict; returns the phase's line and the report for the result. */
  async run(
    version: number,
    replacing: number | undefined,
    recorder: PerformanceRecorder,
  ): Promise<{ detail: string; report: PerformanceReport }> {
    const { spec } = this;
    const baseline = await this.baselineOf(replacing);
    const measurement = await proxyActivities<Activities>(
      performanceMeasure(spec.warmup.timeout),
    ).measurePerformance.executeWithOptions(
      { summary: stepSummary(`Performance gate: measure v${version} under slo.load`) },
      [
        {
          app: spec.app,
          platform: spec.platform,
          secretName: spec.secrets.apiKey,
          servedName: spec.model.servedName,
          version,
          load: spec.slo.load,
          timeScale: requestTimeScale(spec),
          probeTimeoutSec: Math.min(spec.warmup.timeout, 30),
        },
      ],
    );
    const verdict = judge(measurement, spec.slo, baseline);
    const report: PerformanceReport = { measurement, verdict };
    recorder.recordPerformance({ performance: report });
    const figures = measurement.figures;
    const measuredLine = figures
      ? `TTFT p95 ${Math.round(figures.ttftP95Ms)} ms, TPOT p95 ${figures.tpotP95Ms.toFixed(1)} ms, ${Math.round(figures.outputTokensPerSec)} tok/s at ${describeLoad(measurement.load)}`
      : `nothing measured at ${describeLoad(measurement.load)}`;
    if (verdict.verdict === 'fail') {
      throw ApplicationFailure.create({
        type: ErrorType.PerformanceGateFailed,
        nonRetryable: true,
        message: `performance gate failed for v${version}: ${verdict.reasons.join('; ')} (${measuredLine})`,
        details: [{ performance: report }],
      });
    }
    if (verdict.verdict === 'inconclusive') {
      report.decision = await this.ask(version, verdict.reasons, recorder);
      recorder.recordPerformance({ performance: report });
      const { decision } = report;
      if (decision.decision === 'abort') {
        throw ApplicationFailure.create({
          type: ErrorType.PerformanceGateFailed,
          nonRetryable: true,
          message: `performance gate inconclusive for v${version} (${verdict.reasons.join('; ')}); ${describeDecision(decision)}`,
          details: [{ performance: report }],
        });
      }
    }
    if (figures) upsertMemo({ [PERFORMANCE_MEMO]: { version, load: measurement.load, figures } });
    const outcome = report.decision ? `inconclusive, ${describeDecision(report.decision)}` : 'passed';
    return { detail: `${outcome}: ${measuredLine}`, report };
  }

  /** The figures the version replaced recorded when its own rollout gated it; null when none were. */
  private async baselineOf(replacing: number | undefined): Promise<PerformanceBaseline | null> {
    if (replacing === undefined) return null;
    return act.performanceBaseline.executeWithOptions(
      { summary: stepSummary(`Baseline: the figures v${replacing}'s gate recorded`) },
      [{ app: this.spec.app, version: replacing }],
    );
  }

  /** Pauses for a `decide` update; after the spec's timeout, its default decides. */
  private async ask(version: number, reasons: string[], recorder: PerformanceRecorder): Promise<PerformanceDecision> {
    const { timeout, default: defaultDecision } = this.spec.slo.onInconclusive;
    this.question = {
      version,
      reasons,
      deadline: new Date(Date.now() + timeout * 1000).toISOString(),
      defaultDecision,
      howToAnswer: `glm-ops decide ${this.spec.app} promote|abort --reason "…"`,
    };
    recorder.recordPerformance({ performanceQuestion: this.question });
    log.warn('performance gate inconclusive: waiting for a decision', { version, reasons, timeoutSec: timeout });
    let isAnswered: boolean;
    try {
      isAnswered = await condition(() => this.decision !== undefined, timeout * 1000);
    } finally {
      // Answered, timed out or aborted: the question is closed either way.
      this.question = undefined;
      recorder.recordPerformance({ performanceQuestion: undefined });
    }
    if (isAnswered) return this.decision!;
    return {
      decision: defaultDecision,
      reason: `no decision within slo.onInconclusive.timeout ${timeout}s: the spec's default`,
      by: 'slo.onInconclusive.default',
      at: new Date(Date.now()).toISOString(),
      source: 'timeout',
    };
  }

  private validate(input: DecideInput): void {
    if (!this.question) throw new Error('the rollout is not waiting for a performance decision');
    if (input?.decision !== 'promote' && input?.decision !== 'abort') {
      throw new Error(`decision: "${String(input?.decision)}" is neither promote nor abort`);
    }
    if (!input.reason?.trim()) throw new Error('reason: say why (it is recorded in the rollout history)');
    if (!input.by?.trim()) throw new Error('by: name who decides (it is recorded in the rollout history)');
  }

  private accept(input: DecideInput): PerformanceDecision {
    // A second decision racing the first (both validated while waiting) changes nothing: the first one stands.
    this.decision ??= {
      decision: input.decision,
      reason: input.reason.trim(),
      by: input.by.trim(),
      at: new Date(Date.now()).toISOString(),
      source: 'person',
    };
    log.info('performance decision', { ...this.decision });
    return this.decision;
  }
}

function describeDecision(decision: PerformanceDecision): string {
  const verb = decision.decision === 'promote' ? 'promoted' : 'aborted';
  return decision.source === 'timeout'
    ? `${verb} by default (${decision.reason})`
    : `${verb} by ${decision.by}: ${decision.reason}`;
}

/**
 * The time scale the local twin serves requests at (1 on Modal and for a real SGLang): the emulator's
 * `timing.timeScale` (an image's own settings first, as the platform merges them), else `local.timeScale`.
 */
export function requestTimeScale(spec: Spec): number {
  if (spec.platform !== 'local' || spec.local.engine !== 'emulator') return 1;
  const timingOf = (settings: Record<string, unknown> | undefined): unknown =>
    (settings?.timing as { timeScale?: unknown } | undefined)?.timeScale;
  const perImage = spec.local.images[spec.sglang.image]?.emulator;
  const scale = perImage && 'timing' in perImage ? timingOf(perImage) : timingOf(spec.local.emulator);
  return typeof scale === 'number' && scale > 0 ? scale : spec.local.timeScale;
}
