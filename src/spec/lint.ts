import { closestMatches } from './edit-distance';
import type { Finding, LintContext } from './finding';
import { LINT_RULES } from './rules';
import type { AcknowledgedValue, Spec } from './schema';
import { valueAtPath } from './value-at-path';

export type { Finding, LintContext } from './finding';

/** A warning the spec accepted: the reason, and the value of its field the acknowledgement names. */
export type AcknowledgedFinding = Finding & {
  /** The reason written in `lint.acknowledge`. */
  acknowledgement: string;
  /** The accepted value of the finding's field (`null` = unset); absent for the older reason-only form. */
  acceptedValue?: AcknowledgedValue;
};

/** Findings split into those still open and warnings the spec acknowledged under `lint.acknowledge`. */
export interface LintReport {
  findings: Finding[];
  acknowledged: AcknowledgedFinding[];
}

/**
 * Runs every rule and applies `lint.acknowledge`. An acknowledgement accepts its rule's warning only while the
 * finding's field holds the value it names; errors are never acknowledged away.
 */
export function lintSpecReport(spec: Spec, context: LintContext = {}): LintReport {
  const acknowledge = spec.lint?.acknowledge ?? {};
  const findings: Finding[] = [];
  const acknowledged: AcknowledgedFinding[] = [];
  const valueless = new Map<string, Finding>();
  for (const rule of LINT_RULES) {
    for (const finding of rule.check(spec, context)) {
      const entry = acknowledge[finding.rule];
      if (finding.level !== 'warning' || entry === undefined) {
        findings.push(finding);
        continue;
      }
      if (typeof entry === 'string') {
        acknowledged.push({ ...finding, acknowledgement: entry });
        if (!valueless.has(finding.rule)) valueless.set(finding.rule, finding);
        continue;
      }
      const actual = currentValue(spec, finding.path);
      if (sameValue(entry.value, actual)) {
        acknowledged.push({ ...finding, acknowledgement: entry.reason, acceptedValue: entry.value });
      } else {
        findings.push({
          ...finding,
          message: `${finding.message} (lint.acknowledge.${finding.rule} accepts ${finding.path} ${showValue(entry.value)}, not ${showValue(actual)})`,
          fix: `${finding.fix}; or, if ${showValue(actual)} is deliberate, set lint.acknowledge.${finding.rule}.value to ${showValue(actual)}`,
        });
      }
    }
  }
  for (const [ruleId, finding] of valueless) {
    findings.push({
      rule: 'lint-acknowledge-without-value',
      level: 'warning',
      path: `lint.acknowledge.${ruleId}`,
      message: `lint.acknowledge.${ruleId} gives only a reason, so it accepts any value of ${finding.path}, including worse ones`,
      reason: 'an acknowledgement is a decision about one value; when the value changes the warning must be seen again',
      fix: `name the value it accepts: ${ruleId}: { value: ${showValue(currentValue(spec, finding.path))}, reason: "…" }`,
    });
  }
  const knownIds = LINT_RULES.map((rule) => rule.id);
  for (const ruleId of Object.keys(acknowledge)) {
    if (!knownIds.includes(ruleId)) {
      const suggestion = closestMatches(ruleId, knownIds, 1)[0];
      findings.push({
        rule: 'lint-acknowledge-unknown',
        level: 'warning',
        path: `lint.acknowledge.${ruleId}`,
        message: `lint.acknowledge names ${JSON.stringify(ruleId)}, which is not a lint rule${suggestion ? `: did you mean ${suggestion}?` : ''}`,
        reason: 'an acknowledgement that matches nothing hides nothing and is probably a typo',
        fix: suggestion ? `rename it to ${suggestion}` : `remove it or use one of: ${knownIds.join(', ')}`,
      });
    }
  }
  return { findings, acknowledged };
}

/** Lints a parsed spec against the guide's rules; each finding names its field, the reason and the fix. */
export function lintSpec(spec: Spec, context: LintContext = {}): Finding[] {
  return lintSpecReport(spec, context).findings;
}

/** The finding's field as an acknowledgement compares it: a scalar, or null when unset. */
function currentValue(spec: Spec, path: string): AcknowledgedValue {
  const value = valueAtPath(spec, path);
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function sameValue(accepted: AcknowledgedValue, actual: AcknowledgedValue): boolean {
  return accepted === actual;
}

/** A value as YAML would spell it: 20, main, "20" (text), "two words", null (unset). */
function showValue(value: AcknowledgedValue): string {
  if (value === null) return 'null (unset)';
  if (typeof value !== 'string') return String(value);
  const readsAsAnotherType = /^([-+.\d]|true$|false$|null$|~$)/i.test(value);
  return /^[A-Za-z0-9._/:-]+$/.test(value) && !readsAsAnotherType ? value : JSON.stringify(value);
}

/** `acknowledged (accepts modal.maxInputs 20): why`, as `spec check` and the rollout's validate step list it. */
export function describeAcknowledgement(finding: AcknowledgedFinding): string {
  const accepts =
    finding.acceptedValue === undefined
      ? `any value of ${finding.path}`
      : `accepts ${finding.path} ${showValue(finding.acceptedValue)}`;
  return `acknowledged (${accepts}): ${finding.acknowledgement}`;
}
