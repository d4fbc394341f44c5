import type { ApplicationFailure } from '@temporalio/common';
import type {
  DiagnosisConfidence,
  DiagnosisReport,
  PhaseReport,
  RolloutResult,
  RolloutStatus,
} from '../shared/rollout-types';

import { SMOKE_TEST_NAMES } from '../probes/smoke-tests';
import { formatMs } from './format-ms';
import { fitLine, terminalColumns, wrapText } from './terminal-width';
import { performanceLines } from './performance-lines';

/**
 * The phase column's width: the longest phase name in the table, at least `validate`'s, so a table with a
 * `performance` row keeps its columns and one without it stays as narrow as before. `status` shares it.
 */
export function phaseWidth(phases: ReadonlyArray<{ name: string }>): number {
  return Math.max(8, ...phases.map((p) => p.name.length));
}

/** `  health   failed   10.9 s  `: where a phase's detail starts. */
const detailIndent = (width: number): string => ' '.repeat(2 + width + 1 + 7 + 1 + 8 + 2);
const GUIDE_PREFIX = 'guide: ';

const CONFIDENCE_WORDS: Record<DiagnosisConfidence, string> = {
  confirmed: 'confirmed by a log line',
  likely: 'likely, from the symptoms',
  possible: 'possible, the evidence fits other causes too',
};

function phaseHead(p: PhaseReport, width: number): string {
  return `  ${p.name.padEnd(width)} ${p.state.padEnd(7)} ${formatMs(p.durationMs, '-').padStart(8)}  `;
}

/** The guide's expectation under a phase, wrapped at words below the detail column. */
function guideLines(p: PhaseReport, columns: number, width: number): string[] {
  if (!p.guideExpectation) return [];
  return wrapText(`${GUIDE_PREFIX}${p.guideExpectation}`, columns, {
    firstIndent: detailIndent(width),
    indent: detailIndent(width) + ' '.repeat(GUIDE_PREFIX.length),
  });
}

/** A phase row whose detail wraps at words under its own column. */
function wrappedPhase(p: PhaseReport, columns: number, width: number): string[] {
  const indent = detailIndent(width);
  const [first = '', ...rest] = wrapText(p.detail ?? '', columns, { firstIndent: indent, indent });
  return [`${phaseHead(p, width)}${first.slice(indent.length)}`.trimEnd(), ...rest];
}

/** The report of a successful rollout: per-phase timings against the guide, smoke results, versions. */
export function renderRolloutReport(result: RolloutResult, columns: number): string[] {
  const lines = [
    '',
    ...wrapText(`rollout ${result.rolloutId} of ${result.app} succeeded in ${formatMs(result.totalMs)}`, columns),
    ...wrapText(
      `serving v${result.deployedVersion}${result.previousVersion ? ` (previous v${result.previousVersion})` : ''} at ${result.endpoint}`,
      columns,
      { firstIndent: '  ', indent: '    ' },
    ),
    'phases:',
  ];
  const width = phaseWidth(result.phases);
  for (const p of result.phases) lines.push(...wrappedPhase(p, columns, width), ...guideLines(p, columns, width));
  lines.push('smoke tests:');
  for (const smoke of result.smoke) {
    lines.push(fitLine(`  ${smoke.passed ? 'pass' : 'FAIL'}  ${smoke.name.padEnd(17)} ${smoke.detail}`, columns));
  }
  lines.push(...performanceLines(result, '').map((line) => fitLine(line, columns)));
  for (const warning of result.warnings) lines.push(...wrapText(`warning: ${warning}`, columns, { indent: '  ' }));
  return lines;
}

/** Prints the report of a successful rollout, laid out for the terminal. */
export function printRolloutReport(result: RolloutResult): void {
  for (const line of renderRolloutReport(result, terminalColumns(process.stdout))) console.log(line);
}

/** What the failure report is made from: the workflow's failure and the last status it reported. */
export interface FailureReportInput {
  failure?: Pick<ApplicationFailure, 'type' | 'message' | 'details'>;
  /** The last status the CLI saw, used when the failure carries none. */
  last?: RolloutStatus;
}

/** The status a rollout failure carries in its details (the workflow attaches its final snapshot). */
function statusOf(input: FailureReportInput): RolloutStatus | undefined {
  return (input.failure?.details?.[0] as { status?: RolloutStatus } | undefined)?.status ?? input.last;
}

/**
 * The cause alone: the workflow's failure message repeats the failed phase, the diagnoses and the compensations
 * after it, which the report shows once, in its own lines.
 */
function causeOf(message: string | undefined, status: RolloutStatus | undefined): string {
  if (!message) return '';
  if (!status) return message;
  const end = message.search(/\n(failed in phase |diagnosis: |compensation (done|failed): )/);
  return (end === -1 ? message : message.slice(0, end)).trim();
}

/** Longest cause shown; a longer one (every smoke test's detail) is in the status and the Temporal UI. */
const MAX_CAUSE_LINES = 4;

const SMOKE_FAILED = 'smoke tests failed: ';
const SMOKE_SPLIT = new RegExp(`; (?=(?:${SMOKE_TEST_NAMES.join('|')}): )`);

/**
 * A cause in fewer words: failed smoke tests (each with its detail, often the same one: a dead engine fails them all)
 * become their names and the first one's detail.
 */
function shortCause(cause: string): string {
  if (!cause.startsWith(SMOKE_FAILED)) return cause;
  const failed = cause.slice(SMOKE_FAILED.length).split(SMOKE_SPLIT);
  if (failed.length < 2) return cause;
  const names = failed.map((entry) => entry.slice(0, entry.indexOf(': ')));
  return `${failed.length} of ${SMOKE_TEST_NAMES.length} smoke tests failed (${names.join(', ')}); the first: ${failed[0]}`;
}

function diagnosisLine(label: string, d: DiagnosisReport, columns: number): string[] {
  const sure = d.confidence ? ` — ${CONFIDENCE_WORDS[d.confidence]}` : '';
  return wrapText(`${label}${d.title}${sure} (guide ${d.guideSection})`, columns, { indent: '     ' });
}

/** The first phase the rollout did not reach, with the ones after it, in one line. */
function notReached(phases: PhaseReport[]): string | undefined {
  const names = phases.filter((p) => p.state === 'pending').map((p) => p.name);
  return names.length > 0 ? `  not reached: ${names.join(', ')}` : undefined;
}

/**
 * The report of a failed rollout, verdict first: what failed and why in one line, the one fix, the diagnosis behind
 * it with how sure it is and its strongest evidence, any other diagnosis in a line each, what compensation did, and
 * the phases (finished ones on one line each, the failed one pointing at the cause, the rest as "not reached").
 */
export function renderRolloutFailure(input: FailureReportInput, columns: number): string[] {
  const status = statusOf(input);
  const failure = input.failure;
  const failedPhase = status?.phases.find((p) => p.state === 'failed');
  const type = failure?.type ? ` (${failure.type})` : '';
  const isAborted = status?.phase === 'aborted';
  const where = failedPhase ? ` in ${failedPhase.name}` : '';
  const after = status ? ` after ${formatMs(status.elapsedMs)}` : '';
  // The rollout id was printed when it started; the app is what the reader looks for.
  const subject = status ? `rollout of ${status.app}` : 'rollout';
  const lines = ['', ...wrapText(`${subject} ${isAborted ? 'aborted' : 'failed'}${where}${after}${type}`, columns)];
  const cause = causeOf(failure?.message, status);
  if (cause) {
    const wrapped = wrapText(shortCause(cause), columns, { firstIndent: '  ', indent: '  ' });
    lines.push(...wrapped.slice(0, MAX_CAUSE_LINES));
    if (wrapped.length > MAX_CAUSE_LINES) {
      lines.push(fitLine(`  … (all of it: glm-ops status ${status?.app ?? 'APP'} --json)`, columns));
    }
  }
  if (!status) return lines;

  const [main, ...others] = status.diagnoses.filter((d) => d.severity !== 'benign');
  if (main) {
    const fix = main.fix ?? main.resolution;
    lines.push(...wrapText(`fix: ${fix}`, columns, { indent: '     ' }));
    lines.push(...diagnosisLine('why: ', main, columns));
    const evidence = main.evidence.find((line) => !line.startsWith('(+'));
    if (evidence) lines.push(fitLine(`     ${evidence}`, columns));
  }
  for (const other of others) {
    lines.push(...diagnosisLine('also: ', other, columns));
    if (other.fix)
      lines.push(...wrapText(`fix: ${other.fix}`, columns, { firstIndent: '      ', indent: '           ' }));
  }
  for (const c of status.compensations) {
    const text =
      c.outcome === 'done' ? `compensation: ${c.step} — done` : `compensation FAILED: ${c.step} — ${c.detail}`;
    lines.push(...wrapText(text, columns, { indent: '  ' }));
  }
  const leftOver = status.compensations.filter((c) => c.outcome === 'failed');
  if (leftOver.length > 0) {
    lines.push(...wrapText(`left to do by hand: ${leftOver.map((c) => c.step).join('; ')}`, columns, { indent: '  ' }));
  }

  lines.push('phases:');
  const isTimeout = /timeout/i.test(failure?.type ?? '');
  const width = phaseWidth(status.phases.filter((p) => p.state !== 'pending'));
  for (const p of status.phases) {
    if (p.state === 'pending') continue;
    if (p === failedPhase) {
      const detail = p.detail && cause.includes(p.detail) ? 'failed: the cause above' : (p.detail ?? '');
      lines.push(fitLine(`${phaseHead(p, width)}${detail}`, columns));
      // How long the guide expects the step is worth seeing only when the step ran out of time.
      if (isTimeout) lines.push(...guideLines(p, columns, width));
    } else {
      lines.push(fitLine(`${phaseHead(p, width)}${p.detail ?? ''}`.trimEnd(), columns));
    }
  }
  const pending = notReached(status.phases);
  if (pending) lines.push(pending);
  lines.push(...performanceLines(status, '').map((line) => fitLine(line, columns)));
  return lines;
}

/** Prints why a rollout failed (see {@link renderRolloutFailure}), laid out for the terminal. */
export function printRolloutFailure(failure: ApplicationFailure | undefined, last: RolloutStatus | undefined): void {
  for (const line of renderRolloutFailure({ failure, last }, terminalColumns(process.stderr))) console.error(line);
}
