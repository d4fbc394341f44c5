import { COMPILE_WARNINGS } from './compile-warnings';
import { EXIT_CODE_MEANINGS, exitCodeInLine } from './exit-codes';
import { LOG_TRIAGE_RULES } from './log-triage-patterns';
import { redactLogLine } from './redact-log-line';
import type { Diagnosis, TriageRule, TriageSeverity } from './triage-rule';
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
    'platform-kill',
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

  const matched = new Map<string, { rule: TriageRule; evidence: string[] }>();
  for (const rule of TRIAGE_RULES) {
    const evidence: string[] = [];
    for (const code of rule.exitCodes ?? []) evidence.push(...(exitCodes.get(code) ?? []));
    for (const outcome of rule.probeOutcomes ?? []) {
      const count = probeCounts.get(outcome);
      if (count) evidence.push(`health probe: ${outcome} ×${count}`);
    }
    for (const name of rule.smokeFailures ?? [])
      if (smokeFailures.has(name)) evidence.push(`smoke test failed: ${name}`);
    if (rule.isWarmupFailureSignal && warmupFailures.length > 0) {
      evidence.push(`warmup failed: ${warmupFailures.join(', ')}`);
    }
    for (const line of lines) if (rule.logPatterns?.some((p) => p.test(line))) evidence.push(line);
    if (evidence.length === 0) continue;
    for (const line of lines) if (rule.contextPatterns?.some((p) => p.test(line))) evidence.push(line);
    matched.set(rule.id, { rule, evidence });
  }

  const diagnoses: Array<Diagnosis & { rank: number }> = [];
  for (const [index, rule] of TRIAGE_RULES.entries()) {
    const hit = matched.get(rule.id);
    if (!hit || isSuppressed(rule, matched, lines)) continue;
    diagnoses.push({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      evidence: tidyEvidence(hit.evidence, input.secrets ?? []),
      likelyCause: rule.likelyCause,
      resolution: rule.resolution,
      guideSection: rule.guideSection,
      rank: index,
    });
  }
  diagnoses.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rank - b.rank);
  return diagnoses.map(({ rank: _rank, ...diagnosis }) => diagnosis);
}

/** True when a diagnosis list holds anything but benign noise. */
export function hasFindings(diagnoses: readonly Diagnosis[]): boolean {
  return diagnoses.some((d) => d.severity !== 'benign');
}

function isSuppressed(rule: TriageRule, matched: Map<string, unknown>, lines: string[]): boolean {
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
