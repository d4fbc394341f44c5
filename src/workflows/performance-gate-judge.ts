import type {
  PerformanceBaseline,
  PerformanceCheck,
  PerformanceFigures,
  PerformanceLoad,
  PerformanceMeasurement,
  PerformanceVerdict,
} from '../shared/performance-types';
import type { RolloutInput } from '../shared/rollout-types';

/** The spec's `slo` section. */
export type Slo = RolloutInput['spec']['slo'];

/**
 * The performance gate's verdict, pure: evidence first (a measurement that did not run, an endpoint that flapped, too
 * few samples, errors above `maxErrorRate`, an accept length the server did not report make it inconclusive, since
 * latencies measured over failures prove nothing either way), then every stated figure against its threshold, then
 * the regression limit against the version replaced when it was measured at the same load. Any failed check fails.
 */
export function judge(
  measured: PerformanceMeasurement,
  slo: Slo,
  previous?: PerformanceBaseline | null,
): PerformanceVerdict {
  const figures = measured.figures;
  if (!figures) {
    return { verdict: 'inconclusive', reasons: evidenceMissing(measured), checks: [] };
  }
  const checks = thresholdChecks(figures, slo);
  const comparison = regressionChecks(measured, slo, previous);
  checks.push(...comparison.checks);
  const insufficient = insufficientEvidence(measured, figures, slo);
  if (insufficient.length > 0) {
    return { verdict: 'inconclusive', reasons: insufficient, checks, ...comparison.report };
  }
  const failed = checks.filter((check) => !check.isPassed);
  if (failed.length > 0) {
    return { verdict: 'fail', reasons: failed.map(describeCheck), checks, ...comparison.report };
  }
  return { verdict: 'pass', reasons: [], checks, ...comparison.report };
}

/** "TTFT p95 412 ms > 300 ms": the figure, the measured value, the bound and the limit. */
export function describeCheck(check: PerformanceCheck): string {
  const comparator = check.isPassed ? (check.bound === 'max' ? '≤' : '≥') : check.bound === 'max' ? '>' : '<';
  return `${check.figure} ${formatValue(check.measured, check.unit)} ${comparator} ${formatValue(check.limit, check.unit)}`;
}

function evidenceMissing(measured: PerformanceMeasurement): string[] {
  return measured.problems.length > 0 ? measured.problems : ['the load could not be measured'];
}

function insufficientEvidence(measured: PerformanceMeasurement, figures: PerformanceFigures, slo: Slo): string[] {
  const reasons = measured.problems.map((problem) => `endpoint not steady: ${problem}`);
  if (figures.completed < slo.minSamples) {
    reasons.push(
      `too few samples: ${figures.completed} of ${measured.load.requests} requests completed (slo.minSamples ${slo.minSamples})`,
    );
  }
  if (figures.errorRate > slo.maxErrorRate) {
    reasons.push(
      `error rate ${percent(figures.errorRate)} (${figures.failed} of ${figures.completed + figures.failed} failed) above slo.maxErrorRate ${percent(slo.maxErrorRate)}`,
    );
  }
  if (slo.minAcceptLength !== undefined && figures.acceptLength === null) {
    reasons.push(
      `no accept length: /server_info reported none, so slo.minAcceptLength ${slo.minAcceptLength} cannot be checked`,
    );
  }
  return reasons;
}

function thresholdChecks(figures: PerformanceFigures, slo: Slo): PerformanceCheck[] {
  const checks: PerformanceCheck[] = [check('TTFT p95', figures.ttftP95Ms, slo.ttftP95Ms, 'max', 'ms')];
  if (slo.tpotP50Ms !== undefined) checks.push(check('TPOT p50', figures.tpotP50Ms, slo.tpotP50Ms, 'max', 'ms'));
  if (slo.tpotP95Ms !== undefined) checks.push(check('TPOT p95', figures.tpotP95Ms, slo.tpotP95Ms, 'max', 'ms'));
  if (slo.minOutputTokensPerSec !== undefined) {
    checks.push(check('output tok/s', figures.outputTokensPerSec, slo.minOutputTokensPerSec, 'min', 'tok/s'));
  }
  if (slo.minAcceptLength !== undefined && figures.acceptLength !== null) {
    checks.push(check('accept length', figures.acceptLength, slo.minAcceptLength, 'min', 'tokens'));
  }
  return checks;
}

/** TTFT p95 and TPOT p95 against the previous version's, each allowed `maxRegressionPct` worse. */
function regressionChecks(
  measured: PerformanceMeasurement,
  slo: Slo,
  previous: PerformanceBaseline | null | undefined,
): { checks: PerformanceCheck[]; report: Pick<PerformanceVerdict, 'baseline' | 'baselineNote'> } {
  const limitPct = slo.maxRegressionPct;
  if (!previous) {
    return {
      checks: [],
      report: limitPct === undefined ? {} : { baselineNote: 'no figures recorded for the version replaced' },
    };
  }
  if (!isSameLoad(previous.load, measured.load)) {
    return {
      checks: [],
      report: {
        baseline: previous,
        baselineNote: `v${previous.version} was measured at another load (${describeLoad(previous.load)}), not compared`,
      },
    };
  }
  if (limitPct === undefined) return { checks: [], report: { baseline: previous } };
  const figures = measured.figures!;
  const factor = 1 + limitPct / 100;
  const of = (figure: string) => `${figure} vs v${previous.version} (+${limitPct}%)`;
  return {
    checks: [
      check(of('TTFT p95'), figures.ttftP95Ms, round(previous.figures.ttftP95Ms * factor), 'max', 'ms'),
      check(of('TPOT p95'), figures.tpotP95Ms, round(previous.figures.tpotP95Ms * factor), 'max', 'ms'),
    ],
    report: { baseline: previous },
  };
}

/** Same users, rate, request count, warm-up and prompts: only then are two versions' figures comparable. */
export function isSameLoad(a: PerformanceLoad, b: PerformanceLoad): boolean {
  return (
    a.concurrency === b.concurrency &&
    a.requestRate === b.requestRate &&
    a.requests === b.requests &&
    a.warmupRequests === b.warmupRequests &&
    a.dataset === b.dataset
  );
}

/** "4 users, 16 requests (2 warm-up), random 256→32 tokens". */
export function describeLoad(load: PerformanceLoad): string {
  const pace = [
    load.concurrency === null ? undefined : `${load.concurrency} users`,
    load.requestRate === null ? undefined : `${load.requestRate} req/s`,
  ].filter((part) => part !== undefined);
  return `${pace.join(' at ')}, ${load.requests} requests (${load.warmupRequests} warm-up), ${load.dataset}`;
}

function check(
  figure: string,
  measured: number,
  limit: number,
  bound: PerformanceCheck['bound'],
  unit: PerformanceCheck['unit'],
): PerformanceCheck {
  return { figure, measured, limit, bound, unit, isPassed: bound === 'max' ? measured <= limit : measured >= limit };
}

function formatValue(value: number, unit: PerformanceCheck['unit']): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function percent(fraction: number): string {
  return `${round(fraction * 100)}%`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
