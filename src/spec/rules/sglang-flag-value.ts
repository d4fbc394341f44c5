import { findingOf, type Finding, type LintRule } from '../finding';
import { describeFlagValueProblem } from '../flag-value';
import { resolveSpecFlag } from '../spec-flags';
import { flagTableForImage } from '../sglang-version';

/** A value the release's parser rejects: wrong type, not among the choices, a value for a switch. */
export const sglangFlagValue: LintRule = {
  id: 'sglang-flag-value',
  summary: 'a value in sglang.args has the wrong type or is not among the flag’s choices',
  reason:
    "SGLang's own flag table for the image's release (type= and choices= of each argparse argument): argparse exits 2 on an invalid value",
  check(spec) {
    const { table } = flagTableForImage(spec.sglang.image);
    const findings: Finding[] = [];
    for (const [key, value] of Object.entries(spec.sglang.args)) {
      const resolved = resolveSpecFlag(table, key);
      if (resolved.kind !== 'flag') continue;
      const problem = describeFlagValueProblem(key, resolved.flag, value, `SGLang ${table.version}`);
      if (!problem) continue;
      findings.push(
        findingOf(this, {
          level: 'error',
          path: `sglang.args.${key}`,
          message: problem,
          fix: Array.isArray(resolved.flag.choices)
            ? `set ${key} to one of: ${resolved.flag.choices.map(String).join(', ')}`
            : `give ${key} a value SGLang ${table.version} accepts`,
        }),
      );
    }
    return findings;
  },
};
