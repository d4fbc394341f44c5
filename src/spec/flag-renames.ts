import { closestMatches, editDistance } from './edit-distance';
import { compareVersions, allFlagTables, specName, type SglangFlag, type SglangFlagTable } from './sglang-flags';
import { canonicalName, deprecatedChoice, deprecatedReplacementFlag, resolveSpecFlag } from './spec-flags';

/** A flag SGLang renamed, with where its source says so. */
export interface StatedRename {
  from: string;
  to: string;
  source: string;
}

/**
 * Renames SGLang's source states outright. The tables find these too (0.5.17 marks the old names as deprecated
 * aliases); the list keeps the reason next to the names, and holds even when a table in between is missing.
 */
export const STATED_RENAMES: readonly StatedRename[] = [
  {
    from: 'nsa-decode-backend',
    to: 'dsa-decode-backend',
    source:
      "SGLang 0.5.17 server_args.py registers --nsa-decode-backend as DeprecatedAliasStoreAction(new_flag='--dsa-decode-backend'); 0.5.23's parser no longer has it",
  },
  {
    from: 'nsa-prefill-backend',
    to: 'dsa-prefill-backend',
    source:
      "SGLang 0.5.17 server_args.py registers --nsa-prefill-backend as DeprecatedAliasStoreAction(new_flag='--dsa-prefill-backend'); 0.5.23's parser no longer has it",
  },
];

/** What happens to one `sglang.args` entry when the spec moves from one release to another. */
export type SpecFlagChange =
  /** The flag is gone from the new release and another one took its place. */
  | { kind: 'renamed'; key: string; to: string; isGuess: boolean; source: string }
  /** The flag is gone from the new release. */
  | { kind: 'removed'; key: string; suggestions: string[]; source: string }
  /** Still accepted, but deprecated: the new release names a replacement. */
  | { kind: 'deprecated'; key: string; to?: string; advice: string; source: string }
  /** The value is a deprecated alias in the new release (`attention-backend: nsa` → `dsa`). */
  | { kind: 'value-deprecated'; key: string; from: string; to: string; source: string }
  /** The value is no longer among the flag's choices. */
  | { kind: 'value-removed'; key: string; value: string; choices: string[]; source: string };

/** Whether a change stops the new release from starting (argparse exits 2 on it). */
export function isBreaking(change: SpecFlagChange): boolean {
  return change.kind === 'renamed' || change.kind === 'removed' || change.kind === 'value-removed';
}

function tablesBetween(from: string, to: string): SglangFlagTable[] {
  return allFlagTables().filter(
    (table) => compareVersions(table.version, from) >= 0 && compareVersions(table.version, to) <= 0,
  );
}

/**
 * Where a flag absent from `target` went: a stated rename, a release in between that marked it deprecated in favour of
 * a flag `target` has, a flag of `target` with the same dest, or (as a labelled guess) a new flag with a close name.
 */
export function findRename(
  key: string,
  target: SglangFlagTable,
  from?: { table: SglangFlagTable; flag: SglangFlag },
): { to: string; isGuess: boolean; source: string } | undefined {
  const stated = STATED_RENAMES.find((rename) => rename.from === key && target.byOption.has(`--${rename.to}`));
  if (stated) return { to: stated.to, isGuess: false, source: stated.source };
  const searched = from ? tablesBetween(from.table.version, target.version) : allFlagTables();
  for (const table of searched) {
    const flag = table.byOption.get(`--${key}`);
    const replacement = flag?.deprecated?.replacement;
    if (flag && replacement && /^--[a-z0-9][a-z0-9-]*$/.test(replacement) && target.byOption.has(replacement)) {
      return {
        to: specName(replacement),
        isGuess: false,
        source: `SGLang ${table.version} marks --${key} deprecated: ${flag.deprecated?.help ?? `use ${replacement}`}`,
      };
    }
  }
  if (from) {
    const sameDest = target.flags.find((flag) => flag.dest === from.flag.dest && !flag.deprecated);
    if (sameDest) {
      return {
        to: canonicalName(sameDest),
        isGuess: false,
        source: `SGLang ${target.version}'s --${canonicalName(sameDest)} stores the same setting (dest ${from.flag.dest})`,
      };
    }
    // A guess only for near-identical names (one word swapped for a short one, as nsa → dsa): a loose match would
    // point at an unrelated flag.
    const words = key.split('-').length;
    const added = target.flags
      .filter((flag) => !flag.deprecated && !flag.optionStrings.some((option) => from.table.byOption.has(option)))
      .map(canonicalName)
      .filter((name) => name.split('-').length === words && editDistance(key, name) <= 2);
    const close = closestMatches(key, added, 1)[0];
    if (close) {
      return {
        to: close,
        isGuess: true,
        source: `SGLang ${target.version} drops --${key} and adds --${close}, a close name (a guess: read its help)`,
      };
    }
  }
  return undefined;
}

/**
 * The changes a spec's flags need to move from one release's table to another's: renamed and removed flags (which stop
 * the new release at start-up), deprecated flags and deprecated or removed values.
 */
export function specFlagChanges(
  args: Readonly<Record<string, string | number | boolean>>,
  fromTable: SglangFlagTable,
  toTable: SglangFlagTable,
): SpecFlagChange[] {
  const changes: SpecFlagChange[] = [];
  for (const [key, value] of Object.entries(args)) {
    if (value === false) continue;
    const before = resolveSpecFlag(fromTable, key);
    const after = resolveSpecFlag(toTable, key);
    if (after.kind !== 'flag') {
      const rename = findRename(
        key,
        toTable,
        before.kind === 'flag' ? { table: fromTable, flag: before.flag } : undefined,
      );
      if (rename) changes.push({ kind: 'renamed', key, ...rename });
      else {
        changes.push({
          kind: 'removed',
          key,
          suggestions: after.kind === 'unknown' ? after.suggestions : after.matches,
          source: `SGLang ${toTable.version}'s parser has no --${key}`,
        });
      }
      continue;
    }
    const deprecation = after.flag.deprecated;
    if (deprecation) {
      const target = deprecatedReplacementFlag(toTable, after.flag);
      changes.push({
        kind: 'deprecated',
        key,
        ...(target ? { to: canonicalName(target) } : {}),
        advice: deprecation.replacement ? `use ${deprecation.replacement}` : (deprecation.help ?? 'deprecated'),
        source: `SGLang ${toTable.version}: ${deprecation.help ?? `${after.flag.action} (new_flag=${deprecation.replacement ?? 'none'})`}`,
      });
    }
    const marked = deprecatedChoice(after.flag, value);
    if (marked) {
      changes.push({
        kind: 'value-deprecated',
        key,
        from: String(value),
        to: marked.replacement,
        source: marked.source,
      });
    } else if (Array.isArray(after.flag.choices) && typeof value !== 'boolean') {
      const choices = after.flag.choices.map(String);
      if (!choices.includes(String(value))) {
        changes.push({
          kind: 'value-removed',
          key,
          value: String(value),
          choices,
          source: `SGLang ${toTable.version}'s --${canonicalName(after.flag)} choices`,
        });
      }
    }
  }
  return changes;
}

/** One line per change, for the upgrade command and its plan. */
export function describeSpecFlagChange(change: SpecFlagChange): string {
  switch (change.kind) {
    case 'renamed':
      return `${change.key} → ${change.to}${change.isGuess ? ' (probably)' : ''}: renamed (${change.source})`;
    case 'removed':
      return `${change.key}: removed${change.suggestions.length ? ` (closest: ${change.suggestions.join(', ')})` : ''} (${change.source})`;
    case 'deprecated':
      return `${change.key}${change.to ? ` → ${change.to}` : ''}: deprecated, ${change.advice} (${change.source})`;
    case 'value-deprecated':
      return `${change.key}: ${change.from} → ${change.to}: deprecated value (${change.source})`;
    case 'value-removed':
      return `${change.key}: ${change.value} is no longer accepted (choices: ${change.choices.join(', ')})`;
  }
}
