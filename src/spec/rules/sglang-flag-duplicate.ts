import { findingOf, type Finding, type LintRule } from '../finding';
import { renderedSpecFlags } from '../rendered-spec-flags';

/** Two keys that set the same SGLang setting (`tp` and `tp-size`, `nsa-decode-backend` and `dsa-decode-backend`). */
export const sglangFlagDuplicate: LintRule = {
  id: 'sglang-flag-duplicate',
  summary: 'two keys in sglang.args set the same SGLang setting',
  reason:
    "SGLang's own flag table for the image's release: spellings that share an argparse dest are one setting, and argparse silently keeps the last one",
  check(spec) {
    const { table, flags } = renderedSpecFlags(spec);
    const byDest = new Map<string, string[]>();
    for (const { key, resolved } of flags) {
      if (resolved.kind !== 'flag') continue;
      byDest.set(resolved.flag.dest, [...(byDest.get(resolved.flag.dest) ?? []), key]);
    }
    const findings: Finding[] = [];
    for (const [dest, keys] of byDest) {
      if (keys.length < 2) continue;
      findings.push(
        findingOf(this, {
          level: 'error',
          path: `sglang.args.${keys[1] as string}`,
          message: `${keys.map((key) => `"${key}"`).join(' and ')} all set ${dest} in SGLang ${table.version}; only one of them would take effect`,
          fix: `keep one of ${keys.join(', ')}`,
        }),
      );
    }
    return findings;
  },
};
