import { COMPILE_WARNINGS } from './compile-warnings';
import { EXIT_CODE_MEANINGS, exitCodeInLine } from './exit-codes';
import { LOG_TRIAGE_RULES } from './log-triage-patterns';
import { redactLogLine } from './redact-log-line';
import type { DiagnosisConfidence } from '../shared/rollout-types';
import type { Diagnosis, EngineStage, LaunchArgs, TriageRule, TriageSeverity } from './triage-rule';
import { scenarioRules } from './troubleshooting-scenarios';

/** Everything a failed step knows: the engine's recent lines and the signals the probes saw. */
export interface DiagnoseInput {
  logLines: string[];
  /** The engine's exit code when the caller knows it (Python returncode: -9 = SIGKILL). */
  exitCode?: number;
  /** Health-probe outcomes seen (`bad-gateway`, `timeout`, `starting`, ...). */
  probeOutcomes?: string[];
  /** Names of the smoke tests that failed (`tool-call`, `reasoning-content`, ...). */
  smokeFailures?: string[];
  /** Names of the warmup requests that failed. */
  warmupFailures?: string[];
  /** Values to mask in evidence besides the usual key shapes (`api_key=`, `Bearer ...`). */
  secrets?: string[];
  /** Where the engine was when it failed; rules that do not fit it are left out. @default any stage */
  stage?: EngineStage;
  /** The spec's SGLang flags: a flag the spec sets is not blamed as missing on a failed check alone. */
  launchArgs?: LaunchArgs;
}

/** At most this many lines of evidence per diagnosis, each cut to `MAX_EVIDENCE_CHARS`. */
export const MAX_EVIDENCE_LINES = 5;
/** Longest evidence line kept. */
export const MAX_EVIDENCE_CHARS = 240;

const SEVERITY_ORDER: Record<TriageSeverity, number> = { error: 0, warning: 1, benign: 2 };

/**
 * Every triage rule, most specific first: the order breaks ties within a severity (an OOM explains a 502, so the
 * §17 OOM row comes before §18's generic "502 after hours").
 */
export const TRIAGE_RULES: readonly TriageRule[] = buildRules();

function buildRules(): TriageRule[] {
  const byId = new Map<string, TriageRule>();
  for (const rule of [...LOG_TRIAGE_RULES, ...scenarioRules()]) byId.set(rule.id, rule);
  const order = [
    'weights-missing',
    'engine-oom',
    'scheduler-killed',
    'platform-kill',
    'killed-from-outside',
    'watchdog-timeout',
    'scheduler-exception',
    'engine-exit-minus-9',
    'garbled-output',
    'tool-calls-malformed',
    'reasoning-empty',
    'warmup-failures',
    'crash-502',
    'health-slow',
    'cold-start-jit',
    'ttft-spikes',
    'health-fast',
    'sigterm-shutdown',
    'deepgemm-compile-success',
  ];
  const ordered = order.map((id) => {
    const rule = byId.get(id);
    if (!rule) throw new Error(`triage rule order names unknown rule "${id}"`);
    byId.delete(id);
    return rule;
  });
  if (byId.size > 0) throw new Error(`triage rules missing from the order: ${[...byId.keys()].join(', ')}`);
  const benignRows: TriageRule[] = COMPILE_WARNINGS.map((row) => ({
    id: `compile-warning-${row.id}`,
    title: row.message,
    severity: row.isBenign ? 'benign' : 'warning',
    likelyCause: `${row.severity} compile/runtime warning (guide §12 row ${row.row})`,
    resolution: row.action,
    guideSection: '§12 Compilation & runtime warnings',
    logPatterns: [row.pattern],
  }));
  return [...ordered, ...benignRows];
}

/**
 * Matches the engine's lines and the probes' signals against the guide's triage tables (§12, §17, §18) and
 * returns one diagnosis per matched row: errors first, then warnings, then benign noise. Evidence is truncated
 * and secrets are masked.
 */
export function diagnose(input: DiagnoseInput): Diagnosis[] {
  const lines = input.logLines.flatMap((text) => text.split(/\r?\n/)).filter((line) => line.trim() !== '');
  const exitCodes = new Map<number, string[]>();
  const noteExit = (code: number, evidence: string): void => {
    const list = exitCodes.get(code) ?? [];
    list.push(evidence);
    exitCodes.set(code, list);
  };
  if (input.exitCode !== undefined)
    noteExit(input.exitCode, `engine exit code ${input.exitCode}${exitMeaning(input.exitCode)}`);
  for (const line of lines) {
    const code = exitCodeInLine(line);
    if (code !== undefined) noteExit(code, line);
  }
  const probeCounts = countValues(input.probeOutcomes ?? []);
  const smokeFailures = new Set(input.smokeFailures ?? []);
  const warmupFailures = input.warmupFailures ?? [];
  const anyLine = (patterns: TriageRule['requiresLine']): boolean =>
    lines.some((line) => patterns!.some((p) => p.test(line)));

  const matched = new Map<string, Hit>();
  for (const rule of TRIAGE_RULES) {
    if (input.stage && rule.stages && !rule.stages.includes(input.stage)) continue;
    if (rule.requiresLine && !anyLine(rule.requiresLine)) continue;
    if (rule.absentLines && anyLine(rule.absentLines)) continue;
    const hit: Hit = { rule, logged: [], exits: [], symptoms: [] };
    for (const code of rule.exitCodes ?? []) hit.exits.push(...(exitCodes.get(code) ?? []));
    for (const outcome of rule.probeOutcomes ?? []) {
      const count = probeCounts.get(outcome);
      if (count) hit.symptoms.push(`health probe: ${outcome} ×${count}`);
    }
    for (const name of rule.smokeFailures ?? [])
      if (smokeFailures.has(name)) hit.symptoms.push(`smoke test failed: ${name}`);
    if (rule.isWarmupFailureSignal && warmupFailures.length > 0) {
      hit.symptoms.push(`warmup failed: ${warmupFailures.join(', ')}`);
    }
    // A flag the spec sets is not missing: the failed check has another cause (only a logged value can say otherwise).
    const blamed = rule.blamesMissingArg;
    if (blamed && String(input.launchArgs?.[blamed.name]) === blamed.value) hit.symptoms = [];
    for (const line of lines) if (rule.logPatterns?.some((p) => p.test(line))) hit.logged.push(line);
    if (evidenceOf(hit).length > 0) matched.set(rule.id, hit);
  }
  // A dead engine fails every request after it: the failed checks then say nothing about parsers or timeouts.
  const isDeathKnown = [...matched.values()].some(
    (hit) => hit.rule.isEngineDeath && hit.logged.length + hit.exits.length > 0,
  );
  if (isDeathKnown) {
    for (const [id, hit] of matched) {
      if (hit.rule.isEngineDeath) continue;
      hit.symptoms = [];
      if (evidenceOf(hit).length === 0) matched.delete(id);
    }
  }

  const diagnoses: Array<Diagnosis & { rank: number }> = [];
  for (const [index, rule] of TRIAGE_RULES.entries()) {
    const hit = matched.get(rule.id);
    if (!hit || isSuppressed(rule, matched, lines)) continue;
    const context = lines.filter((line) => rule.contextPatterns?.some((p) => p.test(line)));
    const evidence = [...evidenceOf(hit), ...context];
    const fix = typeof rule.fix === 'function' ? rule.fix({ launchArgs: input.launchArgs, evidence }) : rule.fix;
    diagnoses.push({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      evidence: tidyEvidence(evidence, input.secrets ?? []),
      likelyCause: rule.likelyCause,
      resolution: rule.resolution,
      guideSection: rule.guideSection,
      confidence: confidenceOf(hit),
      ...(fix ? { fix: redactLogLine(fix, input.secrets ?? []) } : {}),
      rank: index,
    });
  }
  diagnoses.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rank - b.rank);
  return diagnoses.map(({ rank: _rank, ...diagnosis }) => diagnosis);
}

/** What matched one rule, by kind: log lines name a cause, an exit code or a symptom only points at one. */
interface Hit {
  rule: TriageRule;
  logged: string[];
  exits: string[];
  symptoms: string[];
}

function evidenceOf(hit: Hit): string[] {
  return [...hit.exits, ...hit.symptoms, ...hit.logged];
}

const CONFIDENCE_RANK: Record<DiagnosisConfidence, number> = { confirmed: 0, likely: 1, possible: 2 };

/** Confirmed by a log line the rule names, likely from an exit code or symptoms; never above the rule's own cap. */
function confidenceOf(hit: Hit): DiagnosisConfidence {
  const found: DiagnosisConfidence = hit.logged.length > 0 ? 'confirmed' : 'likely';
  const cap = hit.rule.maxConfidence;
  return cap && CONFIDENCE_RANK[cap] > CONFIDENCE_RANK[found] ? cap : found;
}

/** True when a diagnosis list holds anything but benign noise. */
export function hasFindings(diagnoses: readonly Diagnosis[]): boolean {
  return diagnoses.some((d) => d.severity !== 'benign');
}

function isSuppressed(rule: TriageRule, matched: ReadonlyMap<string, unknown>, lines: string[]): boolean {
  const suppression = rule.suppressedBy;
  if (!suppression || !suppression.ruleIds.some((id) => matched.has(id))) return false;
  return !(suppression.unlessLine && lines.some((line) => suppression.unlessLine!.test(line)));
}

function tidyEvidence(evidence: string[], secrets: string[]): string[] {
  const unique = [...new Set(evidence.map((line) => line.trim()))];
  const kept = unique.slice(0, MAX_EVIDENCE_LINES).map((line) => {
    const clean = redactLogLine(line, secrets);
    return clean.length > MAX_EVIDENCE_CHARS ? `${clean.slice(0, MAX_EVIDENCE_CHARS - 1)}…` : clean;
  });
  if (unique.length > MAX_EVIDENCE_LINES) kept.push(`(+${unique.length - MAX_EVIDENCE_LINES} more matching lines)`);
  return kept;
}

function exitMeaning(code: number): string {
  const meaning = EXIT_CODE_MEANINGS.find((m) => m.code === code);
  return meaning ? ` (${meaning.meaning})` : '';
}

function countValues(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** The engine's stage when a rollout phase failed: before it served, its first requests, or later. */
export function engineStageOf(failedPhase: string): EngineStage {
  if (failedPhase === 'warmup' || failedPhase === 'smoke') return 'first-requests';
  if (failedPhase === 'performance') return 'serving';
  return 'start-up';
}
