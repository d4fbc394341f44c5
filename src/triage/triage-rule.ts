import type { DiagnosisReport } from '../shared/rollout-types';

/** A diagnosis: one matched row of the guide's tables, with the lines and signals that matched it. */
export type Diagnosis = DiagnosisReport;

/** How bad a finding is; `benign` is known noise and never outranks a real finding. */
export type TriageSeverity = Diagnosis['severity'];

/** Anything that can test one log line: a RegExp or a small predicate object. */
export interface LinePattern {
  test(line: string): boolean;
}

/**
 * One row of a triage table in matcher form: the guide's words plus the signals that identify it. A rule matches
 * when any of its primary signals (log patterns, exit codes, probe outcomes, smoke or warmup failures) is present.
 */
export interface TriageRule {
  id: string;
  title: string;
  severity: TriageSeverity;
  likelyCause: string;
  resolution: string;
  /** Where the row lives in the guide, e.g. `§17 Log triage`. */
  guideSection: string;
  /** Lines that identify this finding on their own. */
  logPatterns?: LinePattern[];
  /** Engine exit codes (from the input or a `[monitor] FATAL: SGLang died (code N)` line). */
  exitCodes?: number[];
  /** Health-probe outcomes (`bad-gateway`, `timeout`, ...) that point here. */
  probeOutcomes?: string[];
  /** Names of failed smoke tests that point here. */
  smokeFailures?: string[];
  /** Whether any failed warmup request points here. */
  isWarmupFailureSignal?: boolean;
  /** Lines attached as supporting evidence only once the rule matched by another signal. */
  contextPatterns?: LinePattern[];
  /** Drop this rule when one of these rules matched, unless a line matches `unlessLine` (a more specific cause). */
  suppressedBy?: { ruleIds: string[]; unlessLine?: LinePattern };
}

/** A line pattern from a predicate, for matches a single RegExp cannot express (numeric thresholds, absences). */
export function linePredicate(test: (line: string) => boolean): LinePattern {
  return { test };
}
