import { findingOf, type Finding, type LintRule } from '../finding';
import { renderedSpecFlags } from '../rendered-spec-flags';
import { canonicalName, deprecatedChoice, deprecatedReplacementFlag } from '../spec-flags';

/** A deprecated flag or value: it still works on this release and will stop working on a later one. */
export const sglangFlagDeprecated: LintRule = {
  id: 'sglang-flag-deprecated',
  summary: 'a flag or value in sglang.args is deprecated in the image’s SGLang release',
  reason:
    'SGLang\'s own flag table for the image\'s release: Deprecated* argparse actions, deprecated help texts and choices marked "Deprecated alias for" in its source',
  check(spec) {
    const { table, flags } = renderedSpecFlags(spec);
    const findings: Finding[] = [];
    for (const { key, value, resolved } of flags) {
      if (resolved.kind !== 'flag') continue;
      const deprecation = resolved.flag.deprecated;
      if (deprecation && deprecation.errorMessage === undefined) {
        const target = deprecatedReplacementFlag(table, resolved.flag);
        findings.push(
          findingOf(this, {
            level: 'warning',
            path: `sglang.args.${key}`,
            message: `"${key}" is deprecated in SGLang ${table.version}${deprecation.replacement ? `: use ${deprecation.replacement}` : ''}${target ? ` (glm-ops renders --${canonicalName(target)})` : ''}`,
            fix: target
              ? `rename it to ${canonicalName(target)}`
              : deprecation.replacement
                ? `replace it with ${deprecation.replacement}`
                : `SGLang says: ${deprecation.help ?? 'deprecated'}`,
          }),
        );
      }
      const marked = deprecatedChoice(resolved.flag, value);
      if (marked) {
        findings.push(
          findingOf(this, {
            level: 'warning',
            path: `sglang.args.${key}`,
            message: `${key}: ${String(value)} is a deprecated alias of ${marked.replacement} in SGLang ${table.version} (${marked.source}); glm-ops renders ${marked.replacement}`,
            fix: `set ${key}: ${marked.replacement}`,
          }),
        );
      }
    }
    return findings;
  },
};
