import type { DiagnosisReport } from '../shared/rollout-types';

/** A diagnosis: one matched row of the guide's tables, with the lines and signals that matched it. */
export type Diagnosis = DiagnosisReport;

/** How bad a finding is; `benign` is known noise and never outranks a real finding. */
export type TriageSeverity = Diagnosis['severity'];

/**
 * Where a pattern's wording comes from when it is not a line real SGLang prints: the guide's text (not seen in the
 * recordings of the real server), glm-ops's own lines (the health poll, the crash monitor, the compile step), or a
 * line only the emulator prints. A pattern without one claims real SGLang wording, and a test runs it over the
 * recorded real logs.
 */
export interface PatternProvenance {
  kind: 'guide' | 'glm-ops' | 'emulator';
  /** Why it is kept although no recorded SGLang line matches it. */
  note: string;
}

/** Anything that can test one log line: a RegExp or a small predicate object. */
export interface LinePattern {
  test(line: string): boolean;
  provenance?: PatternProvenance;
}

/** A pattern whose wording is not real SGLang output (see {@link PatternProvenance}). */
export function notFromSglang(
  pattern: LinePattern,
  kind: PatternProvenance['kind'],
  note: string,
): LinePattern & { provenance: PatternProvenance } {
  return { test: (line) => pattern.test(line), provenance: { kind, note } };
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
