import * as fs from 'node:fs/promises';
import * as YAML from 'yaml';
import type * as z from 'zod';
import { closestMatches } from './edit-distance';
import { Spec } from './schema';
import { isRequiredAt, knownKeysAt } from './schema-walk';
import { isSecretField, MASK, maskSecretsInLine } from './secret-text';
import { describeValue, specErrorMap } from './spec-error-map';
import type { SpecIssue } from './spec-issue';
import { yamlSyntaxIssues } from './yaml-syntax-issues';

export { formatSpecIssue, type SpecIssue } from './spec-issue';

/** The outcome of parsing: a resolved spec, or every problem found. */
export type ParseResult = { ok: true; spec: Spec } | { ok: false; errors: SpecIssue[] };

/** Spec files larger than this are refused before parsing: a deployment spec is a few kilobytes. */
export const MAX_SPEC_FILE_BYTES = 256 * 1024;

/**
 * Parses and validates spec YAML. Duplicate keys, YAML syntax errors, anchors that expand too far and schema
 * violations all come back as issues with a line, column and source line (and a field path once the YAML parses);
 * nothing throws for bad input. A document that does not parse stops there: validating the parser's guess at it
 * would only add errors about fields the user never wrote.
 */
export function parseSpecText(text: string, options: { fileName?: string } = {}): ParseResult {
  void options;
  if (text.length > MAX_SPEC_FILE_BYTES) {
    return fail('', `spec is ${text.length} characters; the limit is ${MAX_SPEC_FILE_BYTES} (a spec is a few KB)`);
  }
  if (text.includes('\u0000')) return fail('', 'spec contains NUL bytes: this is a binary file, not YAML');
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    schema: 'core',
  });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: yamlSyntaxIssues(text, doc.errors, lineCounter, (offset) => pathAtOffset(doc, offset)),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return fail('', `YAML could not be expanded: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (data === null || data === undefined)
    return fail('', 'spec is empty: expected a mapping with app, model, gpu and sglang');
  if (typeof data !== 'object' || Array.isArray(data)) {
    return fail(
      '',
      `spec must be a YAML mapping (app: ..., model: ...), got ${Array.isArray(data) ? 'a list' : typeof data}`,
      1,
    );
  }
  return validateSpecData(data, new SourceLocator(text, doc, lineCounter));
}

/**
 * Validates a spec that is already data (a workflow's input), with the same messages as a spec file: field, what it
 * must be, what it holds. There is no source, so issues carry no line.
 */
export function validateSpecData(
  data: unknown,
  at: Locator = { issue: (segments, message) => ({ path: formatPath(segments), message }) },
): ParseResult {
  const parsed = Spec.safeParse(data, { error: specErrorMap, reportInput: true });
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, errors: schemaIssues(parsed.error.issues, [], at) };
}

/** Reads a spec file with a size cap and binary detection, then parses it; a missing file is an issue, not a throw. */
export async function loadSpecFile(file: string): Promise<ParseResult> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail('', code === 'ENOENT' ? `no such file: ${file}` : `cannot open ${file}: ${code ?? String(err)}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return fail('', `${file} is not a regular file`);
    if (stat.size > MAX_SPEC_FILE_BYTES) {
      return fail('', `${file} is ${stat.size} bytes; the limit is ${MAX_SPEC_FILE_BYTES} (a spec is a few KB)`);
    }
    const bytes = await handle.readFile();
    if (bytes.includes(0)) return fail('', `${file} contains NUL bytes: this is a binary file, not YAML`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail('', `${file} is not valid UTF-8 text`);
    }
    return parseSpecText(text.replace(/^\uFEFF/, ''), { fileName: file });
  } finally {
    await handle.close();
  }
}

function fail(path: string, message: string, line?: number): ParseResult {
  return { ok: false, errors: [{ path, message, ...(line !== undefined ? { line } : {}) }] };
}

type Segment = string | number;

/** Turns a field path and a message into an issue, with the position of the field where there is a source. */
interface Locator {
  issue(segments: Segment[], message: string, options?: { atKey?: boolean }): SpecIssue;
}

/**
 * zod's issues as spec issues: one per unknown key (with "did you mean"), a union's issues replaced by those of the
 * one branch the value's kind selects, a required field dropped when an unknown key is its misspelling.
 */
function schemaIssues(issues: readonly z.core.$ZodIssue[], prefix: Segment[], at: Locator): SpecIssue[] {
  const misspelled = new Set<string>();
  const result: SpecIssue[] = [];
  for (const issue of issues) {
    const segments = [
      ...prefix,
      ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
    ];
    if (issue.code === 'invalid_union') {
      const branch = matchingBranch(issue.errors);
      if (branch) {
        result.push(...schemaIssues(branch, segments, at));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = suggestKey(key, segments, issue.input);
        if (suggestion) misspelled.add(formatPath([...segments, suggestion]));
        result.push(at.issue([...segments, key], unknownKeyMessage(key, segments, suggestion), { atKey: true }));
      }
      continue;
    }
    result.push(at.issue(segments, withSubjectAndValue(issue, segments)));
  }
  // One message per field: an empty app name breaks both its length and its pattern, and the first says enough.
  const seen = new Set<string>();
  return result.filter((issue) => {
    if (misspelled.has(issue.path) && /is required and missing/.test(issue.message)) return false;
    if (seen.has(issue.path)) return false;
    seen.add(issue.path);
    return true;
  });
}

/** The branch of a failed union whose root type the value had (a mapping for the mapping branch): its issues say more. */
function matchingBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const candidates = branches.filter(
    (issues) => issues.length > 0 && !issues.some((issue) => issue.path.length === 0 && issue.code === 'invalid_type'),
  );
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** The closest field the mapping at `segments` may hold and does not: `maxInput` → `maxInputs`. */
function suggestKey(key: string, segments: Segment[], input: unknown): string | undefined {
  const present = input && typeof input === 'object' ? new Set(Object.keys(input)) : new Set<string>();
  const absent = knownKeysAt(Spec, segments).filter((candidate) => !present.has(candidate));
  return closestMatches(key, absent, 1)[0];
}

function unknownKeyMessage(key: string, segments: Segment[], suggestion: string | undefined): string {
  const where = segments.length > 0 ? `${formatPath(segments)} has` : 'a spec has';
  if (suggestion !== undefined) {
    const required = isRequiredAt(Spec, [...segments, suggestion]) ? ' (required)' : '';
    return `unknown field ${JSON.stringify(key)}: did you mean ${JSON.stringify(suggestion)}${required}?`;
  }
  const known = knownKeysAt(Spec, segments);
  return `unknown field ${JSON.stringify(key)}: ${where} ${known.length > 0 ? `only ${known.join(', ')}` : 'no such field'}`;
}

/**
 * Messages the schema writes itself ("must be \"owner/name\"", "is not an IANA time zone: ...") gain the field they are
 * about and the value written, like the error map's own: `"repo" must be "owner/name", got "glm"`.
 */
function withSubjectAndValue(issue: z.core.$ZodIssue, segments: Segment[]): string {
  const { message } = issue;
  const last = segments[segments.length - 1];
  if (!/^(must|is) /.test(message) || last === undefined || issue.code === 'invalid_key') return message;
  const got = `, got ${isSecretField(String(last)) ? MASK : describeValue(issue.input)}`;
  const colon = message.indexOf(': ');
  const body = colon >= 0 ? `${message.slice(0, colon)}${got}${message.slice(colon)}` : `${message}${got}`;
  return `${JSON.stringify(String(last))} ${body}`;
}

/** Lines, columns and source lines of field paths in the parsed YAML. */
class SourceLocator implements Locator {
  private readonly lines: string[];

  constructor(
    text: string,
    private readonly doc: YAML.Document,
    private readonly lineCounter: YAML.LineCounter,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  issue(segments: Segment[], message: string, options: { atKey?: boolean } = {}): SpecIssue {
    const key = options.atKey ? this.keyNode(segments) : undefined;
    const position = key?.range ? this.lineCounter.linePos(key.range[0]) : this.positionOf(segments);
    return {
      path: formatPath(segments),
      ...(position
        ? { line: position.line, column: position.col, source: maskSecretsInLine(this.lines[position.line - 1] ?? '') }
        : {}),
      message,
    };
  }

  /**
   * The deepest written node on the path: a scalar value's own position, a key's position for a nested mapping (its
   * value starts on the next line), the parent's key for a missing field. A missing top-level field has no place.
   */
  private positionOf(segments: Segment[]): ReturnType<YAML.LineCounter['linePos']> | undefined {
    for (let depth = segments.length; depth >= 1; depth -= 1) {
      const prefix = segments.slice(0, depth);
      const node = prefix.length === 0 ? this.doc.contents : this.doc.getIn(prefix, true);
      if (!YAML.isNode(node) || !node.range) {
        const key = depth > 0 && depth === segments.length ? this.keyNode(prefix) : undefined;
        if (key?.range) return this.lineCounter.linePos(key.range[0]);
        continue;
      }
      if (YAML.isScalar(node)) return this.lineCounter.linePos(node.range[0]);
      const key = this.keyNode(prefix);
      return this.lineCounter.linePos((key?.range ?? node.range)[0]);
    }
    return undefined;
  }

  private keyNode(segments: Segment[]): YAML.Node | undefined {
    const parent = segments.length === 1 ? this.doc.contents : this.doc.getIn(segments.slice(0, -1), true);
    const last = segments[segments.length - 1];
    if (!YAML.isMap(parent)) return undefined;
    const pair = parent.items.find((item) => YAML.isScalar(item.key) && String(item.key.value) === String(last));
    return pair && YAML.isNode(pair.key) ? pair.key : undefined;
  }
}

/** Field paths keep flag names whole: `sglang.args.mem-fraction-static`, `a.list[2]`. */
function formatPath(segments: (string | number)[]): string {
  return segments.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${segment}` : segment;
  }, '');
}

/** Best-effort field path of a YAML error offset, so syntax errors also name a field when they can. */
function pathAtOffset(doc: YAML.Document, offset: number): string {
  const segments: string[] = [];
  let node: unknown = doc.contents;
  while (YAML.isMap(node)) {
    const pair = node.items.find((item) => {
      const key = item.key;
      const value = item.value;
      const start = YAML.isNode(key) && key.range ? key.range[0] : Infinity;
      const end =
        YAML.isNode(value) && value.range ? value.range[2] : YAML.isNode(key) && key.range ? key.range[2] : -1;
      return start <= offset && offset <= end;
    });
    if (!pair || !YAML.isScalar(pair.key)) break;
    segments.push(String(pair.key.value));
    node = pair.value;
  }
  return segments.join('.');
}
