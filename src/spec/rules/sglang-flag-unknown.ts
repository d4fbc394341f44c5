import { findingOf, type Finding, type LintRule } from '../finding';
import { findRename } from '../flag-renames';
import { renderedSpecFlags } from '../rendered-spec-flags';

/** A flag the release's parser does not have: real SGLang exits 2 ("unrecognized arguments") after provisioning. */
export const sglangFlagUnknown: LintRule = {
  id: 'sglang-flag-unknown',
  summary: 'a flag in sglang.args is not a flag of the image’s SGLang release',
  reason:
    "SGLang's own flag table for the image's release (server_args, extracted from the wheel): argparse exits 2 on an unrecognized argument",
  check(spec) {
    const { table, choice, note, flags } = renderedSpecFlags(spec);
    const findings: Finding[] = [];
    for (const { key, resolved } of flags) {
      if (resolved.kind !== 'unknown') continue;
      const rename = findRename(key, table);
      const suggestion = rename ? rename.to : resolved.suggestions[0];
      const hint = rename
        ? `: it was renamed ${rename.to} (${rename.source})`
        : resolved.suggestions.length > 0
          ? `: did you mean ${resolved.suggestions.join(' or ')}?`
          : '';
      findings.push(
        findingOf(this, {
          level: 'error',
          path: `sglang.args.${key}`,
          message: `"${key}" is not a flag of SGLang ${table.version}${hint}${choice === 'exact' ? '' : ` (${note})`}`,
          fix: suggestion
            ? `rename it to ${suggestion}`
            : `remove it (\`sglang serve --help\` lists the flags of SGLang ${table.version})`,
        }),
      );
    }
    return findings;
  },
};
