import type { SglangFlag, SglangFlagTable } from './sglang-flags';

/**
 * Reads an SGLang launch argv the way `prepare_server_args` does: Python 3.11's argparse over the release's flag
 * table. Abbreviations, `--flag=value`, nargs, type conversion, choices, the required `--model-path`, deprecated
 * actions and the wording and order of every error follow argparse's own code, so the emulator fails a bad argv the
 * way real SGLang does (usage text, then `sglang serve: error: ...`, exit 2).
 */

/** argparse's SUPPRESS sentinel as the table records it. */
const SUPPRESS = '==SUPPRESS==';

/** The help action argparse adds before any flag (add_help=True): `-h`/`--help`. */
const HELP_OPTIONS = ['-h', '--help'];

/** An argv argparse rejects: what it prints to stderr and the exit status. */
export class SglangArgvError extends Error {
  constructor(
    /** The error sentence after `prog: error: `, e.g. `unrecognized arguments: --mem-fraction-statik 0.8`. */
    readonly reason: string,
    /** Everything argparse writes to stderr: the usage text, then `prog: error: reason`. */
    readonly stderrText: string,
    /** 2 for errors; 0 for `--help`. */
    readonly exitCode: 0 | 2 = 2,
    /** Deprecation lines SGLang logged while parsing, before it stopped (they come out first). */
    readonly warnings: readonly string[] = [],
  ) {
    super(reason);
    this.name = 'SglangArgvError';
  }
}

/** One flag argparse consumed, in argv order. */
export interface SeenFlag {
  flag: SglangFlag;
  /** The spelling the argv used, after abbreviation: `--tp-size` for `--tp`. */
  option: string;
  /** The spelling as written. */
  written: string;
  value: unknown;
}

/** What a launch argv parses to. */
export interface ParsedSglangArgv {
  /** argparse's Namespace: every dest with its default, overwritten by the argv. */
  namespace: Record<string, unknown>;
  seen: SeenFlag[];
  /** Lines SGLang's deprecated actions log while parsing, in order (yellow ANSI included, as SGLang prints them). */
  warnings: string[];
}

/** How argparse reads one `--option` token. */
export type OptionMatch =
  | { kind: 'exact'; flag: SglangFlag | 'help'; option: string; explicitArg?: string }
  | { kind: 'abbreviation'; flag: SglangFlag | 'help'; option: string; explicitArg?: string }
  | { kind: 'ambiguous'; matches: string[] }
  | { kind: 'unknown' };

interface TableIndex {
  /** Option strings in argparse's registration order (help first), each with its action. */
  options: [string, SglangFlag | 'help'][];
  lookup: Map<string, SglangFlag | 'help'>;
}

const indexes = new WeakMap<SglangFlagTable, TableIndex>();

function indexOf(table: SglangFlagTable): TableIndex {
  let index = indexes.get(table);
  if (!index) {
    const options: [string, SglangFlag | 'help'][] = table.parser.addHelp
      ? HELP_OPTIONS.map((option) => [option, 'help'])
      : [];
    for (const flag of table.flags) for (const option of flag.optionStrings) options.push([option, flag]);
    index = { options, lookup: new Map(options) };
    indexes.set(table, index);
  }
  return index;
}

/** argparse's `_parse_optional` + `_get_option_tuples` (Python 3.11) for a token that starts with `-`. */
export function matchOption(table: SglangFlagTable, token: string): OptionMatch {
  const { options, lookup } = indexOf(table);
  const exact = lookup.get(token);
  if (exact) return { kind: 'exact', flag: exact, option: token };
  if (token.length === 1) return { kind: 'unknown' };
  const eq = token.indexOf('=');
  if (eq !== -1) {
    const withValue = lookup.get(token.slice(0, eq));
    if (withValue)
      return { kind: 'exact', flag: withValue, option: token.slice(0, eq), explicitArg: token.slice(eq + 1) };
  }
  const tuples: { flag: SglangFlag | 'help'; option: string; explicitArg?: string }[] = [];
  const chars = table.parser.prefixChars;
  if (chars.includes(token[0] as string) && chars.includes(token[1] as string)) {
    if (table.parser.allowAbbrev) {
      const prefix = eq === -1 ? token : token.slice(0, eq);
      const explicitArg = eq === -1 ? undefined : token.slice(eq + 1);
      for (const [option, flag] of options) {
        if (option.startsWith(prefix))
          tuples.push({ flag, option, ...(explicitArg !== undefined ? { explicitArg } : {}) });
      }
    }
  } else if (chars.includes(token[0] as string)) {
    // A single-dash token: `-hx` is `-h` with "x" attached; longer single-dash options match by prefix.
    const shortPrefix = token.slice(0, 2);
    const shortExplicit = token.slice(2);
    for (const [option, flag] of options) {
      if (option === shortPrefix) tuples.push({ flag, option, explicitArg: shortExplicit });
      else if (option.startsWith(token)) tuples.push({ flag, option });
    }
  }
  if (tuples.length > 1) return { kind: 'ambiguous', matches: tuples.map((tuple) => tuple.option) };
  const only = tuples[0];
  if (only) return { kind: 'abbreviation', ...only };
  return { kind: 'unknown' };
}

/** argparse's usage text (`usage: sglang serve [-h] --model-path MODEL_PATH ...`), wrapped as HelpFormatter does. */
export function formatUsage(table: SglangFlagTable, columns = 80): string {
  const prefix = table.parser.usagePrefix;
  const prog = table.parser.prog;
  const parts = [
    ...(table.parser.helpUsage ? [table.parser.helpUsage] : []),
    ...table.flags.flatMap((flag) => (flag.usage === undefined ? [] : [flag.usage])),
  ];
  const optUsage = parts.join(' ');
  const usage = [prog, optUsage].filter(Boolean).join(' ');
  const textWidth = Math.max(columns - 2, 11);
  if (prefix.length + usage.length <= textWidth) return `${prefix}${usage}\n`;
  const optParts = optUsage.match(/\(.*?\)+(?=\s|$)|\[.*?\]+(?=\s|$)|\S+/g) ?? [];
  const getLines = (items: string[], indent: string, firstPrefix?: string): string[] => {
    const lines: string[] = [];
    let line: string[] = [];
    let lineLength = firstPrefix !== undefined ? firstPrefix.length - 1 : indent.length - 1;
    for (const part of items) {
      if (lineLength + 1 + part.length > textWidth && line.length > 0) {
        lines.push(indent + line.join(' '));
        line = [];
        lineLength = indent.length - 1;
      }
      line.push(part);
      lineLength += part.length + 1;
    }
    if (line.length > 0) lines.push(indent + line.join(' '));
    if (firstPrefix !== undefined && lines.length > 0) lines[0] = (lines[0] as string).slice(indent.length);
    return lines;
  };
  let lines: string[];
  if (prefix.length + prog.length <= 0.75 * textWidth) {
    const indent = ' '.repeat(prefix.length + prog.length + 1);
    lines = getLines([prog, ...optParts], indent, prefix);
  } else {
    const indent = ' '.repeat(prefix.length);
    lines = [prog, ...getLines(optParts, indent)];
  }
  return `${prefix}${lines.join('\n')}\n`;
}

/** `argument --tp-size/--tensor-parallel-size: ...`: argparse names an optional by all its spellings. */
function argumentName(flag: SglangFlag | 'help'): string {
  return flag === 'help' ? HELP_OPTIONS.join('/') : flag.optionStrings.join('/');
}

/** Python's repr() of a str, int, float, bool, None or list, as argparse's messages print values. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  const text = String(value);
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === '\\') body += '\\\\';
    else if (char === quote) body += `\\${quote}`;
    else if (char === '\n') body += '\\n';
    else if (char === '\r') body += '\\r';
    else if (char === '\t') body += '\\t';
    else if (code < 0x20 || code === 0x7f) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else body += char;
  }
  return `${quote}${body}${quote}`;
}

/** Thrown inside conversion: argparse's ArgumentTypeError (its message is used as is). */
class ArgumentTypeError extends Error {}

const PYTHON_INT = /^[+-]?\d+(?:_\d+)*$/;
const PYTHON_FLOAT = /^[+-]?(?:(?:\d+(?:_\d+)*)?\.\d+(?:_\d+)*|\d+(?:_\d+)*\.?)(?:[eE][+-]?\d+(?:_\d+)*)?$/;

function pythonInt(raw: string): number {
  const text = raw.trim();
  if (!PYTHON_INT.test(text)) throw new TypeError('not an int');
  return Number(text.replace(/_/g, ''));
}

function pythonFloat(raw: string): number {
  const text = raw.trim();
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return NaN;
  if (!PYTHON_FLOAT.test(text)) throw new TypeError('not a float');
  return Number(text.replace(/_/g, ''));
}

function jsonLoads(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new TypeError('not JSON');
  }
}

/** The type name argparse prints (`invalid int value`): the callable's `__name__`. */
function typeName(type: string | undefined): string {
  return (type ?? 'str').split('.').pop() as string;
}

/**
 * Converts one argv string as the flag's `type=` callable would. int, float, str, json.loads and SGLang's own helpers
 * (human_readable_int, json_list_type, nullable_str) are reproduced; any other helper keeps the string (recorded in
 * the emulator README as a difference).
 */
function convert(flag: SglangFlag, raw: string): unknown {
  switch (typeName(flag.type)) {
    case 'str':
      return raw;
    case 'int':
      return pythonInt(raw);
    case 'float':
      return pythonFloat(raw);
    case 'loads':
      return jsonLoads(raw);
    case 'json_list_type':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ArgumentTypeError(`Invalid JSON list: ${raw}. Please provide a valid JSON list.`);
      }
    case 'nullable_str':
      return raw === '' || raw === 'None' ? null : raw;
    case 'human_readable_int': {
      const value = raw.trim();
      const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)$/.exec(value);
      if (match) {
        const [, number, suffix] = match as unknown as [string, string, string];
        const iec: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
        const si: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
        if (iec[suffix] !== undefined) {
          if (number.includes('.')) {
            throw new ArgumentTypeError(
              `Decimals are not allowed with IEC suffixes like '${suffix}'. Use an integer IEC value such as '${Math.trunc(Number(number))}${suffix}', or an SI value such as '${number}${suffix[0]}'.`,
            );
          }
          return Number(number) * iec[suffix];
        }
        return Math.trunc(Number(number) * (si[suffix] as number));
      }
      try {
        return pythonInt(value);
      } catch {
        throw new ArgumentTypeError(
          `Invalid integer value: '${value}'. Use a plain integer, SI suffixes (1k, 1M), or IEC suffixes (1Ki, 1Mi). Suffixes are case-sensitive.`,
        );
      }
    }
    default:
      return raw;
  }
}

/** argparse's `_get_value` + `_check_value` for one string. */
function valueOf(flag: SglangFlag, raw: string): unknown {
  let value: unknown;
  try {
    value = convert(flag, raw);
  } catch (err) {
    if (err instanceof ArgumentTypeError) throw new ArgumentError(flag, err.message);
    throw new ArgumentError(flag, `invalid ${typeName(flag.type)} value: ${pythonRepr(raw)}`);
  }
  if (Array.isArray(flag.choices) && !flag.choices.some((choice) => choice === value)) {
    throw new ArgumentError(
      flag,
      `invalid choice: ${pythonRepr(value)} (choose from ${flag.choices.map(pythonRepr).join(', ')})`,
    );
  }
  return value;
}

/** argparse's ArgumentError: `argument --x/--y: message`. */
class ArgumentError extends Error {
  constructor(flag: SglangFlag | 'help', message: string) {
    super(`argument ${argumentName(flag)}: ${message}`);
  }
}

/** Errors raised with `parser.error(...)` directly (ambiguous option, required, unrecognized). */
class ParserError extends Error {}

/** How many argv strings an action takes from the pattern of what follows it (`AAO...`), as `_match_argument`. */
function matchArgumentCount(flag: SglangFlag | 'help', pattern: string): number {
  const nargs = flag === 'help' ? 0 : flag.nargs;
  const leadingValues = /^A*/.exec(pattern)?.[0].length ?? 0;
  if (nargs === undefined) {
    if (leadingValues >= 1) return 1;
    throw new ArgumentError(flag, 'expected one argument');
  }
  if (nargs === '?') return Math.min(leadingValues, 1);
  if (nargs === '*') return leadingValues;
  if (nargs === '+') {
    if (leadingValues >= 1) return leadingValues;
    throw new ArgumentError(flag, 'expected at least one argument');
  }
  if (leadingValues >= nargs) return nargs;
  throw new ArgumentError(flag, nargs === 1 ? 'expected 1 argument' : `expected ${nargs} arguments`);
}

function isNegativeNumber(token: string): boolean {
  return /^-\d+$|^-\d*\.\d+$/.test(token);
}

/** Initial namespace: each dest's default, first action wins, SUPPRESS leaves it unset (argparse semantics). */
function initialNamespace(table: SglangFlagTable): Record<string, unknown> {
  const namespace: Record<string, unknown> = {};
  for (const flag of table.flags) {
    if (flag.dest === SUPPRESS || flag.default === SUPPRESS || flag.dest in namespace) continue;
    namespace[flag.dest] = flag.default;
  }
  return namespace;
}

/** What the flag's action does with its values (the argparse classes and SGLang's custom actions). */
function applyAction(
  flag: SglangFlag,
  option: string,
  values: unknown,
  namespace: Record<string, unknown>,
  warnings: string[],
): void {
  const deprecatedWarning = (): void => {
    const recorded = flag.deprecated?.onUse;
    if (recorded?.outcome === 'warns') {
      warnings.push(recorded.message.split(flag.optionStrings[0] as string).join(option));
    }
  };
  switch (flag.action) {
    case '_StoreAction':
      namespace[flag.dest] = values;
      return;
    case '_StoreTrueAction':
    case '_StoreFalseAction':
    case '_StoreConstAction':
      namespace[flag.dest] = flag.const ?? flag.action === '_StoreTrueAction';
      return;
    case '_AppendAction':
      namespace[flag.dest] = [...((namespace[flag.dest] as unknown[] | null) ?? []), values];
      return;
    case '_CountAction':
      namespace[flag.dest] = ((namespace[flag.dest] as number | null) ?? 0) + 1;
      return;
    case 'BooleanOptionalAction':
      namespace[flag.dest] = !option.startsWith('--no-');
      return;
    case 'DeprecatedAction':
      if (flag.deprecated?.errorMessage !== undefined) throw new ParserError(flag.deprecated.errorMessage);
      deprecatedWarning();
      return;
    case 'DeprecatedStoreTrueAction':
      deprecatedWarning();
      namespace[flag.dest] = true;
      return;
    case 'DeprecatedStoreConstAction':
      deprecatedWarning();
      namespace[flag.dest] = flag.extra?.const_value ?? null;
      return;
    case 'DeprecatedAliasStoreAction':
      deprecatedWarning();
      namespace[flag.dest] = values;
      return;
    default:
      // LoRAPathAction and other custom actions store what they were given.
      namespace[flag.dest] = values;
  }
}

/**
 * Parses a launch argv (what follows `python3 -m sglang.launch_server`) with a release's table.
 * Throws SglangArgvError with argparse's stderr text when argparse would exit.
 */
export function parseSglangArgv(
  table: SglangFlagTable,
  argv: readonly string[],
  options: { columns?: number } = {},
): ParsedSglangArgv {
  const warnings: string[] = [];
  const fail = (reason: string, exitCode: 0 | 2 = 2): never => {
    const usage = formatUsage(table, options.columns);
    throw new SglangArgvError(
      reason,
      exitCode === 0 ? usage : `${usage}${table.parser.prog}: error: ${reason}\n`,
      exitCode,
      warnings,
    );
  };
  try {
    return parse(table, argv, warnings);
  } catch (err) {
    if (err instanceof HelpRequested) return fail('help requested', 0);
    if (err instanceof ArgumentError || err instanceof ParserError) return fail(err.message);
    throw err;
  }
}

class HelpRequested extends Error {}

function parse(table: SglangFlagTable, argv: readonly string[], warnings: string[]): ParsedSglangArgv {
  // Classify every string first, as argparse does (an ambiguous option fails before any value is read).
  const optionAt = new Map<number, { flag: SglangFlag | 'help' | undefined; option: string; explicitArg?: string }>();
  let pattern = '';
  let afterDoubleDash = false;
  argv.forEach((token, i) => {
    if (afterDoubleDash) {
      pattern += 'A';
      return;
    }
    if (token === '--') {
      afterDoubleDash = true;
      pattern += '-';
      return;
    }
    if (token === '' || !table.parser.prefixChars.includes(token[0] as string) || token.length === 1) {
      pattern += 'A';
      return;
    }
    const match = matchOption(table, token);
    if (match.kind === 'ambiguous') {
      throw new ParserError(`ambiguous option: ${token} could match ${match.matches.join(', ')}`);
    }
    if (match.kind === 'unknown') {
      if (isNegativeNumber(token) || token.includes(' ')) {
        pattern += 'A';
        return;
      }
      optionAt.set(i, { flag: undefined, option: token });
    } else {
      optionAt.set(i, {
        flag: match.flag,
        option: match.option,
        ...(match.explicitArg !== undefined ? { explicitArg: match.explicitArg } : {}),
      });
    }
    pattern += 'O';
  });

  const namespace = initialNamespace(table);
  const seen: SeenFlag[] = [];
  const seenFlags = new Set<SglangFlag>();
  const extras: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const found = optionAt.get(index);
    if (!found) {
      // No positionals in SGLang's parser: loose values are unrecognized arguments.
      if (pattern[index] !== '-') extras.push(argv[index] as string);
      index += 1;
      continue;
    }
    const { flag, option, explicitArg } = found;
    const written = argv[index] as string;
    if (flag === undefined) {
      extras.push(argv[index] as string);
      index += 1;
      continue;
    }
    let values: string[];
    if (explicitArg !== undefined) {
      const count = matchArgumentCount(flag, 'A');
      if (count !== 1) throw new ArgumentError(flag, `ignored explicit argument ${pythonRepr(explicitArg)}`);
      values = [explicitArg];
      index += 1;
    } else {
      const count = matchArgumentCount(flag, pattern.slice(index + 1));
      values = argv.slice(index + 1, index + 1 + count) as string[];
      index += 1 + count;
    }
    if (flag === 'help') throw new HelpRequested();
    seenFlags.add(flag);
    const converted = valuesOf(flag, values);
    applyAction(flag, option, converted, namespace, warnings);
    seen.push({ flag, option, written, value: converted });
  }
  const required = table.flags.filter((flag) => flag.required && !seenFlags.has(flag)).map(argumentName);
  if (required.length > 0) throw new ParserError(`the following arguments are required: ${required.join(', ')}`);
  // String defaults go through the type too when the flag was not given (argparse converts them at the end).
  for (const flag of table.flags) {
    if (seenFlags.has(flag) || typeof flag.default !== 'string' || flag.default === SUPPRESS) continue;
    if (namespace[flag.dest] === flag.default) namespace[flag.dest] = valueOf(flag, flag.default);
  }
  if (extras.length > 0) throw new ParserError(`unrecognized arguments: ${extras.join(' ')}`);
  return { namespace, seen, warnings };
}

/** argparse's `_get_values`: one value, a list for nargs `*`/`+`/N, const for a bare `?`. */
function valuesOf(flag: SglangFlag, values: string[]): unknown {
  if (values.length === 0 && flag.nargs === '?') {
    return typeof flag.const === 'string' ? valueOf(flag, flag.const) : (flag.const ?? null);
  }
  if (values.length === 1 && (flag.nargs === undefined || flag.nargs === '?'))
    return valueOf(flag, values[0] as string);
  return values.map((value) => valueOf(flag, value));
}

/**
 * Reads one value as argparse would for this flag (type conversion, then choices): the spec check and the emulator
 * share it. Returns argparse's own message on failure (`invalid int value: '0.5'`), without the `argument` prefix.
 */
export function readFlagValue(
  flag: SglangFlag,
  raw: string,
): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: valueOf(flag, raw) };
  } catch (err) {
    if (!(err instanceof ArgumentError)) throw err;
    return { ok: false, message: err.message.slice(`argument ${argumentName(flag)}: `.length) };
  }
}
