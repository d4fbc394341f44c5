import type { Finding, LintContext } from './finding';
import { LINT_RULES } from './rules';
import type { Spec } from './schema';

export type { Finding, LintContext } from './finding';

/** Findings split into those still open and warnings the spec acknowledged under `lint.acknowledge`. */
export interface LintReport {
  findings: Finding[];
  acknowledged: (Finding & { acknowledgement: string })[];
}

/** Runs every rule and applies `lint.acknowledge`; errors are never acknowledged away. */
export function lintSpecReport(spec: Spec, context: LintContext = {}): LintReport {
  const acknowledge = spec.lint?.acknowledge ?? {};
  const findings: Finding[] = [];
  const acknowledged: LintReport['acknowledged'] = [];
  for (const rule of LINT_RULES) {
    for (const finding of rule.check(spec, context)) {
      const acknowledgement = acknowledge[finding.rule];
      if (finding.level === 'warning' && acknowledgement !== undefined)
        acknowledged.push({ ...finding, acknowledgement });
      else findings.push(finding);
    }
  }
  const knownIds = new Set(LINT_RULES.map((rule) => rule.id));
  for (const ruleId of Object.keys(acknowledge)) {
    if (!knownIds.has(ruleId)) {
      findings.push({
        rule: 'lint-acknowledge-unknown',
        level: 'warning',
        path: `lint.acknowledge.${ruleId}`,
        message: `lint.acknowledge names ${JSON.stringify(ruleId)}, which is not a lint rule`,
        reason: 'an acknowledgement that matches nothing hides nothing and is probably a typo',
        fix: `remove it or use one of: ${[...knownIds].join(', ')}`,
      });
    }
  }
  return { findings, acknowledged };
}

/** Lints a parsed spec against the guide's rules; each finding names its field, the reason and the fix. */
export function lintSpec(spec: Spec, context: LintContext = {}): Finding[] {
  return lintSpecReport(spec, context).findings;
}
