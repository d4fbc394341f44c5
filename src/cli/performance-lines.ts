import type { PerformanceFigures, PerformanceQuestion, PerformanceReport } from '../shared/performance-types';

/** One row of the figures table: how to read it from the figures, and the judge's name for its threshold. */
interface FigureRow {
  label: string;
  /** The judge's check name, when the SLO can set a threshold on it. */
  check?: string;
  value(figures: PerformanceFigures): number | null;
  unit: string;
}

const ROWS: readonly FigureRow[] = [
  { label: 'TTFT p50', value: (f) => f.ttftP50Ms, unit: 'ms' },
  { label: 'TTFT p95', check: 'TTFT p95', value: (f) => f.ttftP95Ms, unit: 'ms' },
  { label: 'TPOT p50', check: 'TPOT p50', value: (f) => f.tpotP50Ms, unit: 'ms' },
  { label: 'TPOT p95', check: 'TPOT p95', value: (f) => f.tpotP95Ms, unit: 'ms' },
  { label: 'output tok/s', check: 'output tok/s', value: (f) => f.outputTokensPerSec, unit: 'tok/s' },
  { label: 'requests/s', value: (f) => f.requestsPerSec, unit: 'req/s' },
  { label: 'concurrency', value: (f) => f.measuredConcurrency, unit: '' },
  { label: 'accept length', check: 'accept length', value: (f) => f.acceptLength, unit: 'tokens' },
  { label: 'completed', value: (f) => f.completed, unit: '' },
  { label: 'failed', value: (f) => f.failed, unit: '' },
];

/**
 * The performance gate as `status` and the reports print it: the verdict and its reasons, then the figures as a
 * table (measured, the SLO's threshold, the version replaced side by side), then the open question, if any.
 */
export function performanceLines(
  state: { performance?: PerformanceReport; performanceQuestion?: PerformanceQuestion },
  indent = '  ',
): string[] {
  const lines: string[] = [];
  const report = state.performance;
  if (report) {
    const { measurement, verdict } = report;
    const decided = report.decision
      ? `, ${report.decision.decision} (${report.decision.source === 'timeout' ? 'the spec’s default on timeout' : `by ${report.decision.by}: ${report.decision.reason}`})`
      : '';
    lines.push(`${indent}performance gate: ${verdict.verdict}${decided} — v${measurement.version}`);
    for (const reason of verdict.reasons) lines.push(`${indent}  ${reason}`);
    if (measurement.timeScale !== 1) {
      lines.push(
        `${indent}  (local engine time scale ${measurement.timeScale}: latencies are that fraction of the guide's, throughputs its inverse)`,
      );
    }
    const figures = measurement.figures;
    if (figures) lines.push(...figuresTable(report, figures).map((row) => `${indent}  ${row}`));
    if (verdict.baselineNote) lines.push(`${indent}  ${verdict.baselineNote}`);
  }
  const question = state.performanceQuestion;
  if (question) {
    lines.push(
      `${indent}waiting for a decision on v${question.version} (inconclusive: ${question.reasons.join('; ')})`,
      `${indent}  answer: ${question.howToAnswer}; otherwise ${question.defaultDecision} at ${question.deadline}`,
    );
  }
  return lines;
}

function figuresTable(report: PerformanceReport, figures: PerformanceFigures): string[] {
  const baseline = report.verdict.baseline;
  const header = ['figure', `v${report.measurement.version}`, 'SLO', ...(baseline ? [`v${baseline.version}`] : [])];
  const rows = ROWS.map((row) => {
    const check = row.check ? report.verdict.checks.find((c) => c.figure === row.check) : undefined;
    const limit = check ? `${check.bound === 'max' ? '≤' : '≥'} ${format(check.limit, row.unit)}` : '';
    const mark = check && !check.isPassed ? '  ✗' : '';
    return [
      row.label,
      `${format(row.value(figures), row.unit)}${mark}`,
      limit,
      ...(baseline ? [format(row.value(baseline.figures), row.unit)] : []),
    ];
  });
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  return table.map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

function format(value: number | null, unit: string): string {
  if (value === null) return '—';
  const digits = Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}
