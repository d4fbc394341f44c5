import { isDeepStrictEqual } from 'node:util';
import * as YAML from 'yaml';
import type { SglangArgValue } from '../spec/schema';
import type { TuneCandidate } from '../shared/tune-types';

// The tune's answer written into the spec the user keeps: the chosen candidate's lever values, and nothing else. The
// YAML is edited where the values are written (the `yaml` Document gives each value's place), so comments, blank
// lines, flow maps and the alignment of trailing comments stay as they were; re-serialising the whole document would
// reflow them. A lever the spec does not write yet gets a line of its own at the end of its mapping.

/** One field the patch changes. */
export interface SpecChange {
  /** `sglang.args.max-running-requests`, `modal.maxInputs`. */
  path: string;
  /** The value written before; undefined when the spec did not write the field. */
  before: SglangArgValue | undefined;
  after: SglangArgValue;
}

/** The patched YAML and what changed. */
export interface SpecPatch {
  text: string;
  /** The fields whose value changes, in the candidate's order; empty when the spec already holds the candidate. */
  changes: SpecChange[];
  /** Set when a mapping the candidate needs was missing and the document had to be re-serialised (layout may move). */
  layoutNote?: string;
}

/** A spec file the patch cannot edit (it does not parse as YAML). */
export class SpecPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecPatchError';
  }
}

/**
 * Writes the candidate's values into spec YAML: `sglang.args.<flag>` for each SGLang lever (`false` = the flag
 * omitted, so a flag the spec does not write stays unwritten), `modal.<field>` for each scaling lever. Only those
 * fields change; a value already there is left alone.
 */
export function patchSpecText(text: string, candidate: TuneCandidate): SpecPatch {
  const wanted: Array<{ path: string[]; value: SglangArgValue }> = [
    ...Object.entries(candidate.args).map(([flag, value]) => ({ path: ['sglang', 'args', flag], value })),
    ...Object.entries(candidate.modal)
      .filter((entry): entry is [string, number] => entry[1] !== undefined)
      .map(([field, value]) => ({ path: ['modal', field], value })),
  ];
  const original = parse(text);
  const expected = original.toJS() as unknown;
  let patched = text;
  let layoutNote: string | undefined;
  const changes: SpecChange[] = [];
  for (const { path, value } of wanted) {
    const doc = parse(patched);
    const before = scalarValue(doc.getIn(path, true));
    if (before === value || (before === undefined && value === false && doc.hasIn(path) === false)) continue;
    changes.push({ path: path.join('.'), before, after: value });
    setIn(expected, path, value);
    const edited = editInPlace(patched, doc, path, value);
    if (edited !== undefined) {
      patched = edited;
      continue;
    }
    doc.setIn(path, value);
    patched = doc.toString();
    layoutNote = `${path.slice(0, -1).join('.')} was not a mapping the spec writes: the YAML was re-serialised (comments kept, spacing may differ)`;
  }
  // The edit must mean exactly the intended change: the same data as before with the levers set, nothing else.
  const result = parse(patched).toJS() as unknown;
  if (!isDeepStrictEqual(result, expected)) {
    throw new SpecPatchError(
      'the patched YAML does not hold the intended values (a bug in the patch): nothing written',
    );
  }
  return { text: patched, changes, ...(layoutNote ? { layoutNote } : {}) };
}

function parse(text: string): YAML.Document {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false, schema: 'core' });
  if (doc.errors.length > 0) throw new SpecPatchError(`the spec is not valid YAML: ${doc.errors[0]!.message}`);
  return doc;
}

function scalarValue(node: unknown): SglangArgValue | undefined {
  if (!YAML.isScalar(node)) return undefined;
  const value = node.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

function setIn(data: unknown, path: string[], value: SglangArgValue): void {
  let node = data as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** The text with the one value replaced or its line added; undefined when the mapping to edit is not written. */
function editInPlace(text: string, doc: YAML.Document, path: string[], value: SglangArgValue): string | undefined {
  const parent = doc.getIn(path.slice(0, -1), true);
  if (!YAML.isMap(parent) || !parent.range) return undefined;
  const key = path[path.length - 1]!;
  const pair = parent.items.find((item) => YAML.isScalar(item.key) && String(item.key.value) === key);
  const written = scalarText(value);
  if (pair) {
    // A scalar's range ends where its value does, before a trailing comment.
    if (!YAML.isScalar(pair.value) || !pair.value.range) return undefined;
    const [start, end] = pair.value.range;
    // `key:` with no value: the empty value sits right after the colon.
    return `${text.slice(0, start)}${start === end ? ` ${written}` : written}${text.slice(end)}`;
  }
  const entry = `${scalarText(key)}: ${written}`;
  if (parent.flow) {
    const close = text.lastIndexOf('}', parent.range[1]);
    if (close <= parent.range[0]) return undefined;
    if (parent.items.length === 0) return `${text.slice(0, parent.range[0])}{ ${entry} }${text.slice(close + 1)}`;
    // `{ a: 1 }` → `{ a: 1, b: 2 }`: the new entry goes after the last one, the space before `}` kept as written.
    const space = /\s*$/.exec(text.slice(parent.range[0] + 1, close))![0];
    return `${text.slice(0, close - space.length)}, ${entry}${space}${text.slice(close)}`;
  }
  const first = parent.items[0];
  const last = parent.items[parent.items.length - 1];
  if (!first || !last || !YAML.isNode(first.key) || !first.key.range) return undefined;
  const keyStart = first.key.range[0];
  const indent = keyStart - (text.lastIndexOf('\n', keyStart - 1) + 1);
  const lastEnd = (
    YAML.isNode(last.value) ? last.value.range : YAML.isNode(last.key) ? last.key.range : undefined
  )?.[1];
  if (lastEnd === undefined) return undefined;
  const lineEnd = text.indexOf('\n', Math.max(0, lastEnd - 1));
  const at = lineEnd < 0 ? text.length : lineEnd;
  return `${text.slice(0, at)}\n${' '.repeat(indent)}${entry}${text.slice(at)}`;
}

function scalarText(value: SglangArgValue): string {
  return YAML.stringify(value).trimEnd();
}
