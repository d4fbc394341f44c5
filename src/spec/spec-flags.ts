import { closestMatches } from './edit-distance';
import { matchOption } from './sglang-argparse';
import { specName, type SglangFlag, type SglangFlagTable } from './sglang-flags';

/**
 * Spec keys glm-ops itself defines as another flag's spelling. The guide's `_build_sglang_cmd` writes `--tp`, which
 * argparse accepts only as an abbreviation of `--tp-size`; glm-ops keeps the guide's `tp` key and always renders
 * `--tp-size`, so the key stays safe however SGLang's flag list grows.
 */
export const GLM_OPS_SHORTHANDS: Readonly<Record<string, string>> = { tp: 'tp-size' };

/** What a `sglang.args` key means to one release's parser. */
export type SpecFlagResolution =
  /** An option string of the release (a flag's name or one of its aliases). */
  | { kind: 'flag'; how: 'exact' | 'shorthand' | 'abbreviation'; flag: SglangFlag; option: string }
  /** A prefix of several flags: argparse exits 2 ("ambiguous option"). */
  | { kind: 'ambiguous'; matches: string[] }
  /** Not a flag of this release; `suggestions` are the closest names. */
  | { kind: 'unknown'; suggestions: string[] };

const resolutions = new WeakMap<SglangFlagTable, Map<string, SpecFlagResolution>>();

/** Resolves a spec key (`mem-fraction-static`, no dashes) against a table, as argparse would read `--key`. */
export function resolveSpecFlag(table: SglangFlagTable, key: string): SpecFlagResolution {
  // Every sglang-flag-* rule and the builder ask about the same keys: remember the answer per table.
  let known = resolutions.get(table);
  if (!known) {
    known = new Map();
    resolutions.set(table, known);
  }
  let resolved = known.get(key);
  if (!resolved) {
    resolved = resolve(table, key);
    known.set(key, resolved);
  }
  return resolved;
}

function resolve(table: SglangFlagTable, key: string): SpecFlagResolution {
  const shorthand = GLM_OPS_SHORTHANDS[key];
  const target = shorthand !== undefined ? table.byOption.get(`--${shorthand}`) : undefined;
  if (shorthand !== undefined && target)
    return { kind: 'flag', how: 'shorthand', flag: target, option: `--${shorthand}` };
  const match = matchOption(table, `--${key}`);
  if (match.kind === 'ambiguous') return { kind: 'ambiguous', matches: match.matches.map(specName) };
  if ((match.kind === 'exact' || match.kind === 'abbreviation') && match.flag !== 'help' && !match.explicitArg) {
    return { kind: 'flag', how: match.kind, flag: match.flag, option: match.option };
  }
  return { kind: 'unknown', suggestions: closestMatches(key, allSpecNames(table)) };
}

/** Every spelling of every flag of a release, as spec keys. */
export function allSpecNames(table: SglangFlagTable): string[] {
  return table.flags.flatMap((flag) => flag.optionStrings.map(specName));
}

/** A flag's canonical spelling: its first option string, the one SGLang's usage text shows. */
export function canonicalName(flag: SglangFlag): string {
  return specName(flag.optionStrings[0] as string);
}

/**
 * The flag a deprecated one forwards to, when SGLang names a plain flag of the same release that stores into the same
 * place (`--nsa-decode-backend` → `--dsa-decode-backend` in 0.5.17). Replacements with values or several flags
 * (`--cuda-graph-backend-{decode,prefill}=disabled`) are advice for a person, not a rename.
 */
export function deprecatedReplacementFlag(table: SglangFlagTable, flag: SglangFlag): SglangFlag | undefined {
  const replacement = flag.deprecated?.replacement;
  if (replacement === undefined || !/^--[a-z0-9][a-z0-9-]*$/.test(replacement)) return undefined;
  const target = table.byOption.get(replacement);
  return target && target !== flag && target.dest === flag.dest ? target : undefined;
}

/** The value SGLang's source marks as the canonical one for a deprecated choice (`nsa` → `dsa`). */
export function deprecatedChoice(
  flag: SglangFlag,
  value: unknown,
): { replacement: string; source: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const mark = flag.deprecatedChoices?.find((entry) => entry.value === value);
  return mark ? { replacement: mark.replacement, source: mark.source } : undefined;
}
