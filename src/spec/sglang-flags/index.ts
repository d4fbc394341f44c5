import * as z from 'zod';
import table0510 from './sglang-0.5.10.json';
import table0517 from './sglang-0.5.17.json';
import table0523 from './sglang-0.5.23.json';

/**
 * SGLang's server flags per release, as its own argparse parser holds them. Each JSON file is written by
 * `scripts/extract-sglang-flags.py`, which runs the release's `ServerArgs.add_cli_args` from the PyPI wheel; the files
 * are data, never edited by hand. Add a release by running the script and importing the file here.
 */

const JsonValue: z.ZodType<unknown> = z.unknown();

/** A deprecation SGLang states for a flag: its `new_flag=` or its help text. */
export const FlagDeprecation = z.object({
  /** What SGLang says to use instead: a flag (`--dsa-decode-backend`), sometimes with a value (`--x=auto`). */
  replacement: z.string().optional(),
  /** `help` when the replacement was read from the help text rather than the action's `new_flag`. */
  replacementFrom: z.literal('help').optional(),
  /** A DeprecatedAction that stops the launch with this message. */
  errorMessage: z.string().optional(),
  help: z.string().optional(),
  /** What SGLang itself prints or does when the flag is used (run once at extraction). */
  onUse: z.object({ outcome: z.string(), message: z.string() }).optional(),
});
export type FlagDeprecation = z.infer<typeof FlagDeprecation>;

/** One argparse action of `sglang serve`. */
export const SglangFlag = z.object({
  /** Every spelling argparse accepts, the first being the one the usage text shows, e.g. `--tp-size`. */
  optionStrings: z.array(z.string().startsWith('-')).min(1),
  /** Where argparse stores the value; flags sharing a dest are spellings of one setting. */
  dest: z.string(),
  /** The argparse action class: `_StoreAction`, `_StoreTrueAction`, `DeprecatedAliasStoreAction`, ... */
  action: z.string(),
  /** argparse's nargs: absent = one value, 0 = a switch, `?`, `*`, `+` or a count. */
  nargs: z.union([z.number().int(), z.enum(['?', '*', '+'])]).optional(),
  /** `int`, `float`, `str`, `loads` (JSON), or the name of an SGLang type helper. */
  type: z.string().optional(),
  choices: z.union([z.array(JsonValue), z.literal('dynamic')]).optional(),
  /** `set` when argparse holds the choices in a set (printed in hash order; recorded sorted). */
  choicesOrder: z.literal('set').optional(),
  /** The default as JSON; `==SUPPRESS==` when argparse leaves the dest unset. */
  default: JsonValue,
  const: JsonValue.optional(),
  required: z.boolean().optional(),
  metavar: JsonValue.optional(),
  /** help=SUPPRESS: accepted, but not in the usage text. */
  hidden: z.boolean().optional(),
  /** This flag's part of argparse's usage text, from argparse's own formatter. */
  usage: z.string().optional(),
  deprecated: FlagDeprecation.optional(),
  /** Choice values SGLang's source marks `# Deprecated alias for "X"`. */
  deprecatedChoices: z.array(z.object({ value: z.string(), replacement: z.string(), source: z.string() })).optional(),
  /** Other attributes of SGLang's custom actions (`new_flag`, `const_value`). */
  extra: z.record(z.string(), JsonValue).optional(),
});
export type SglangFlag = z.infer<typeof SglangFlag>;

/** The parser settings that decide how argv is read and how errors are worded. */
export const FlagTableParser = z.object({
  /** `prog` of the parser `prepare_server_args` builds: error lines start with it. */
  prog: z.string(),
  /** argparse's allow_abbrev: a unique prefix of a flag is accepted for it (`--tp` for `--tp-size`). */
  allowAbbrev: z.boolean(),
  prefixChars: z.string(),
  addHelp: z.boolean(),
  usagePrefix: z.string(),
  helpUsage: z.string().nullable(),
});

/** One release's flag table file. */
export const SglangFlagTableFile = z.object({
  format: z.literal(1),
  version: z.string().regex(/^\d+\.\d+\.\d+/),
  wheel: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  extractedAt: z.string(),
  extractedWith: z.string(),
  parser: FlagTableParser,
  /** How `python3 -m sglang.compile_deep_gemm` parses argv: the same ServerArgs parser plus `--timeout`. */
  compileDeepGemm: z.object({
    present: z.boolean(),
    usesServerArgsParser: z.boolean().optional(),
    prog: z.string().nullable().optional(),
    extraArguments: z.array(z.record(z.string(), JsonValue)).optional(),
  }),
  standIns: z.array(z.string()),
  flags: z.array(SglangFlag),
});
export type SglangFlagTableFile = z.infer<typeof SglangFlagTableFile>;

/** A release's flag table with lookups by spelling. */
export interface SglangFlagTable extends SglangFlagTableFile {
  /** Every option string (`--tp-size`, `--tensor-parallel-size`, `-h`) → its flag. */
  byOption: ReadonlyMap<string, SglangFlag>;
}

const FILES: readonly { version: string }[] = [table0510, table0517, table0523];

const parsedTables = new Map<string, SglangFlagTable>();

/** Validates one file on first use (a spec check needs one or two of them). */
function tableOf(file: { version: string }): SglangFlagTable {
  let table = parsedTables.get(file.version);
  if (!table) {
    const parsed = SglangFlagTableFile.parse(file);
    const byOption = new Map<string, SglangFlag>();
    for (const flag of parsed.flags) for (const option of flag.optionStrings) byOption.set(option, flag);
    table = { ...parsed, byOption };
    parsedTables.set(file.version, table);
  }
  return table;
}

function sortedFiles(): { version: string }[] {
  return [...FILES].sort((a, b) => compareVersions(a.version, b.version));
}

/** Orders dotted versions numerically (0.5.10 after 0.5.9). */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Every committed table, oldest first. */
export function allFlagTables(): readonly SglangFlagTable[] {
  return sortedFiles().map(tableOf);
}

/** The versions that have a table, oldest first. */
export function flagTableVersions(): string[] {
  return sortedFiles().map((file) => file.version);
}

/** The table of exactly this release, if committed. */
export function flagTableFor(version: string): SglangFlagTable | undefined {
  const file = FILES.find((candidate) => candidate.version === version);
  return file ? tableOf(file) : undefined;
}

/** The newest committed table. */
export function newestFlagTable(): SglangFlagTable {
  const files = sortedFiles();
  return tableOf(files[files.length - 1] as { version: string });
}

/** The flag names without leading dashes, as a spec writes them (`tp-size`). */
export function specName(option: string): string {
  return option.replace(/^-+/, '');
}
