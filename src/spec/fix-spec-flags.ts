import * as YAML from 'yaml';
import type { SpecFlagChange } from './flag-renames';

/** The spec text moved to a new image and its flag spellings, and what was changed. */
export interface FixedSpec {
  text: string;
  /** One line per edit, e.g. `sglang.args.nsa-decode-backend → dsa-decode-backend`. */
  applied: string[];
  /** Changes no edit can make (removed flags, values with no successor): the person decides. */
  left: SpecFlagChange[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** A `--flag=value` replacement SGLang's help names for a deprecated switch (`--x-backend=auto`). */
const FLAG_WITH_VALUE = /^--([a-z0-9][a-z0-9-]*)=([A-Za-z0-9_.:/,+@%-]+)$/;

/** Replaces a scalar's text, keeping its quoting style (the range covers the quotes, not a trailing comment). */
function replaceScalar(node: YAML.Scalar, source: string, value: string): Edit | undefined {
  if (!node.range) return undefined;
  const [start, end] = node.range;
  const original = source.slice(start, end);
  const quote = original.startsWith('"') ? '"' : original.startsWith("'") ? "'" : '';
  return { start, end, text: `${quote}${value}${quote}` };
}

/**
 * Rewrites a spec file for a new SGLang image: sets `sglang.image`, renames flags SGLang renamed or forwards, replaces
 * deprecated values, and turns a deprecated switch into the `--flag=value` SGLang's help names. The YAML document
 * locates each key and value; only those characters change, so comments, alignment and order stay as written.
 */
export function fixSpecFlags(text: string, image: string, changes: readonly SpecFlagChange[]): FixedSpec {
  const doc = YAML.parseDocument(text);
  const applied: string[] = [];
  const left: SpecFlagChange[] = [];
  const edits: Edit[] = [];
  const push = (edit: Edit | undefined, line: string): void => {
    if (!edit) return;
    edits.push(edit);
    applied.push(line);
  };
  const imageNode = doc.getIn(['sglang', 'image'], true);
  if (YAML.isScalar(imageNode) && imageNode.value !== image) {
    push(replaceScalar(imageNode, text, image), `sglang.image: ${String(imageNode.value)} → ${image}`);
  }
  const args = doc.getIn(['sglang', 'args'], true);
  const pairOf = (key: string): YAML.Pair<YAML.Scalar, unknown> | undefined =>
    YAML.isMap(args)
      ? (args.items.find((pair) => YAML.isScalar(pair.key) && pair.key.value === key) as
          YAML.Pair<YAML.Scalar, unknown> | undefined)
      : undefined;
  for (const change of changes) {
    const pair = pairOf(change.key);
    if (!pair) {
      left.push(change);
      continue;
    }
    if ((change.kind === 'renamed' && !change.isGuess) || (change.kind === 'deprecated' && change.to)) {
      push(replaceScalar(pair.key, text, change.to as string), `sglang.args.${change.key} → ${change.to}`);
    } else if (change.kind === 'value-deprecated' && YAML.isScalar(pair.value)) {
      push(replaceScalar(pair.value, text, change.to), `sglang.args.${change.key}: ${change.from} → ${change.to}`);
    } else if (change.kind === 'deprecated' && YAML.isScalar(pair.value) && pair.value.value === true) {
      const replacement = FLAG_WITH_VALUE.exec(change.advice.replace(/^use /, ''));
      if (!replacement) continue;
      const [, flag, value] = replacement as unknown as [string, string, string];
      const keyEdit = replaceScalar(pair.key, text, flag);
      const valueEdit = replaceScalar(pair.value, text, value);
      if (keyEdit && valueEdit) {
        edits.push(keyEdit);
        push(valueEdit, `sglang.args.${change.key}: true → ${flag}: ${value} (as SGLang's help says)`);
      }
    } else if (change.kind !== 'deprecated') {
      left.push(change);
    }
  }
  let fixed = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    fixed = fixed.slice(0, edit.start) + edit.text + fixed.slice(edit.end);
  }
  return { text: fixed, applied, left };
}
