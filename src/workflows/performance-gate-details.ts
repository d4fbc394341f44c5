import type { PerformanceQuestion, PerformanceReport } from '../shared/performance-types';
import type { RunbookRow } from './current-details';
import { describeCheck, describeLoad } from './performance-gate-judge';

/**
 * The performance gate's lines of the rollout's current details: one runbook row per figure checked (measured
 * against the SLO, and the version replaced beside it), then a row for the decision on an inconclusive verdict.
 */
export function performanceRows(report: PerformanceReport | undefined): RunbookRow[] {
  if (!report) return [];
  const { measurement, verdict } = report;
  const baseline = verdict.baseline;
  const previousOf = (figure: string): string => {
    if (!baseline) return '';
    const key = FIGURE_KEYS[figure];
    const value = key ? baseline.figures[key] : undefined;
    return typeof value === 'number' ? `; v${baseline.version}: ${round(value)}` : '';
  };
  const rows: RunbookRow[] = verdict.checks.map((check) => ({
    phase: `↳ ${check.figure}`,
    state: check.isPassed ? 'pass' : 'fail',
    outcome: `${describeCheck(check).slice(check.figure.length + 1)}${previousOf(check.figure)}`,
  }));
  rows.push({
    phase: '↳ load',
    state: verdict.verdict,
    outcome: `v${measurement.version} at ${describeLoad(measurement.load)}${measurement.timeScale !== 1 ? ` (engine time scale ${measurement.timeScale})` : ''}${verdict.reasons.length > 0 && verdict.verdict === 'inconclusive' ? `: ${verdict.reasons.join('; ')}` : ''}`,
  });
  if (report.decision) {
    rows.push({
      phase: '↳ decision',
      state: report.decision.decision,
      outcome: `${report.decision.source === 'timeout' ? 'the spec’s default' : report.decision.by}: ${report.decision.reason}`,
    });
  }
  return rows;
}

/** The note that asks the question while the rollout waits. */
export function performanceQuestionNote(question: PerformanceQuestion | undefined): string[] {
  if (!question) return [];
  return [
    `waiting for a decision on v${question.version}: ${question.howToAnswer} (otherwise ${question.defaultDecision} at ${question.deadline})`,
  ];
}

const FIGURE_KEYS: Record<string, 'ttftP95Ms' | 'tpotP50Ms' | 'tpotP95Ms' | 'outputTokensPerSec' | 'acceptLength'> = {
  'TTFT p95': 'ttftP95Ms',
  'TPOT p50': 'tpotP50Ms',
  'TPOT p95': 'tpotP95Ms',
  'output tok/s': 'outputTokensPerSec',
  'accept length': 'acceptLength',
};

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
