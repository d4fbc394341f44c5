import * as fs from 'node:fs/promises';
import * as YAML from 'yaml';
import type * as z from 'zod';
import { Spec } from './schema';

/** One problem with a spec file, located by its field path (`sglang.args.mem-fraction-static`) and 1-based line. */
export interface SpecIssue {
  path: string;
  line?: number;
  message: string;
}

/** The outcome of parsing: a resolved spec, or every problem found. */
export type ParseResult = { ok: true; spec: Spec } | { ok: false; errors: SpecIssue[] };

/** Spec files larger than this are refused before parsing: a deployment spec is a few kilobytes. */
export const MAX_SPEC_FILE_BYTES = 256 * 1024;

/** Renders issues as `file:line: path: message` lines, one per issue. */
export function formatSpecIssue(issue: SpecIssue, fileName?: string): string {
  const where = [fileName, issue.line].filter((part) => part !== undefined).join(':');
  const field = issue.path ? `${issue.path}: ` : '';
  return `${where ? `${where}: ` : ''}${field}${issue.message}`;
}

/**
 * Parses and validates spec YAML. Duplicate keys, YAML syntax errors, anchors that expand too far and schema
 * violations all come back as issues with a field path and line; nothing throws for bad input.
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
      errors: doc.errors.map((error) => ({
        path: pathAtOffset(doc, error.pos[0]),
        line: lineCounter.linePos(error.pos[0]).line,
        message: yamlMessage(error),
      })),
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
  const parsed = Spec.safeParse(data);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((issue) => zodIssueToSpecIssue(issue, doc, lineCounter)) };
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

function yamlMessage(error: YAML.YAMLError): string {
  const first = error.message.split('\n')[0] ?? error.message;
  if (error.code === 'DUPLICATE_KEY') return 'duplicate key: each key may appear once';
  return `YAML ${error.code === 'BAD_INDENT' || error.code.includes('INDENT') ? 'indentation' : 'syntax'} error: ${first}`;
}

function zodIssueToSpecIssue(issue: z.core.$ZodIssue, doc: YAML.Document, lineCounter: YAML.LineCounter): SpecIssue {
  const segments = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}: check the spelling (see examples/glm-5.1-b200.yaml)`;
    const firstKey = issue.keys[0];
    if (firstKey !== undefined) segments.push(firstKey);
  } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    message = `required field is missing (${issue.message.replace(/^Invalid input: /, '')})`;
  }
  return { path: formatPath(segments), line: lineOfPath(doc, lineCounter, segments), message };
}

/** Field paths keep flag names whole: `sglang.args.mem-fraction-static`, `a.list[2]`. */
function formatPath(segments: (string | number)[]): string {
  return segments.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${segment}` : segment;
  }, '');
}

/** The line of the deepest existing node on the path: for a missing field, its parent's line. */
function lineOfPath(
  doc: YAML.Document,
  lineCounter: YAML.LineCounter,
  segments: (string | number)[],
): number | undefined {
  for (let depth = segments.length; depth >= 0; depth -= 1) {
    const prefix = segments.slice(0, depth);
    const node = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true);
    if (YAML.isNode(node) && node.range) {
      const keyLine = depth > 0 ? keyLineOf(doc, lineCounter, prefix) : undefined;
      return keyLine ?? lineCounter.linePos(node.range[0]).line;
    }
  }
  return undefined;
}

/** A mapping value's own line can be the next line (block maps): report the key's line instead. */
function keyLineOf(
  doc: YAML.Document,
  lineCounter: YAML.LineCounter,
  segments: (string | number)[],
): number | undefined {
  const parent = segments.length === 1 ? doc.contents : doc.getIn(segments.slice(0, -1), true);
  const last = segments[segments.length - 1];
  if (!YAML.isMap(parent)) return undefined;
  const pair = parent.items.find((item) => YAML.isScalar(item.key) && item.key.value === last);
  if (pair && YAML.isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
  return undefined;
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
