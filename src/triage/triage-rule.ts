import type { DiagnosisConfidence, DiagnosisReport } from '../shared/rollout-types';

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

/**
 * Where the engine was when it failed: `start-up` (deploy and the /health wait: it never served), `first-requests`
 * (warmup and smoke tests, seconds after it came up), `serving` (it had been serving for a while: a keep-warm run, a
 * log handed to `glm-ops doctor`). A rule limited to some stages is not offered for the others.
 */
export type EngineStage = 'start-up' | 'first-requests' | 'serving';

/** The spec's SGLang flags (`sglang.args`, dashed names), which the diagnosis checks before blaming a missing one. */
export type LaunchArgs = Readonly<Record<string, string | number | boolean>>;

/** What a rule's fix is worked out from. */
export interface FixContext {
  launchArgs?: LaunchArgs;
  /** The lines and signals the rule matched on. */
  evidence: readonly string[];
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
  /** The rule holds only if a line matches one of these (e.g. SGLang's own `kill_process_tree` exit line). */
  requiresLine?: LinePattern[];
  /** The rule holds only if no line matches any of these. */
  absentLines?: LinePattern[];
  /** The stages the rule fits (the guide's "502 after running fine for hours" is not a start-up crash). @default all */
  stages?: EngineStage[];
  /**
   * The engine died: the rule explains every failed request after it, so smoke, warmup and probe failures alone no
   * longer point at other rules (a crashed engine fails the tool-call check without a parser being wrong).
   */
  isEngineDeath?: boolean;
  /**
   * A flag whose absence the rule blames: when the spec sets it to this value, the failed checks alone do not make the
   * diagnosis (only a log line showing another value does).
   */
  blamesMissingArg?: { name: string; value: string };
  /** The most the rule can claim, when its evidence also fits other causes. @default confirmed by a log line */
  maxConfidence?: Exclude<DiagnosisConfidence, 'confirmed'>;
  /** The one change to make, or how to work it out from the spec's flags and the evidence. */
  fix?: string | ((context: FixContext) => string);
}

/** A line pattern from a predicate, for matches a single RegExp cannot express (numeric thresholds, absences). */
export function linePredicate(test: (line: string) => boolean): LinePattern {
  return { test };
}
