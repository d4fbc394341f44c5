import { findingOf, type Finding, type LintRule } from '../finding';
import { renderedSpecFlags } from '../rendered-spec-flags';

/**
 * A prefix of a flag instead of its name. argparse accepts a unique prefix (allow_abbrev), so it works until a release
 * adds a flag with the same prefix; a prefix of several flags already fails. glm-ops' own `tp` key is exempt: the
 * builder renders it as `--tp-size`.
 */
export const sglangFlagAbbreviation: LintRule = {
  id: 'sglang-flag-abbreviation',
  summary: 'a flag in sglang.args is an abbreviation (a prefix) of a flag name',
  reason:
    "SGLang's own flag table for the image's release: its argparse parser has allow_abbrev, so a prefix works only while it is unique (SGLang exits 2 on an ambiguous one)",
  check(spec) {
    const { table, flags } = renderedSpecFlags(spec);
    const findings: Finding[] = [];
    for (const { key, resolved } of flags) {
      if (resolved.kind === 'ambiguous') {
        findings.push(
          findingOf(this, {
            level: 'error',
            path: `sglang.args.${key}`,
            message: `"${key}" is ambiguous in SGLang ${table.version}: it could match ${resolved.matches.join(', ')} (argparse exits 2)`,
            fix: `write the full name, one of: ${resolved.matches.join(', ')}`,
          }),
        );
      } else if (resolved.kind === 'flag' && resolved.how === 'abbreviation') {
        const full = resolved.option.replace(/^--/, '');
        findings.push(
          findingOf(this, {
            level: 'warning',
            path: `sglang.args.${key}`,
            message: `"${key}" is an abbreviation of ${full} in SGLang ${table.version}; write the full name: a later release can add a flag that makes the prefix ambiguous`,
            fix: `rename it to ${full} (glm-ops already renders --${full})`,
          }),
        );
      }
    }
    return findings;
  },
};
