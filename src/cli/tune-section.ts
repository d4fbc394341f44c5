import * as YAML from 'yaml';
import { lintSpec } from '../spec/lint';
import { validateSpecData } from '../spec/parse-spec';
import type { Spec } from '../spec/schema';
import { sloRequestCount } from '../spec/slo-schema';
import type { SpecIssue } from '../spec/spec-issue';
import type { TuneSpec } from '../spec/tune-schema';
import { yamlSyntaxIssues } from '../spec/yaml-syntax-issues';
import { expand, leversOf } from '../workflows/tune-space';

// What `glm-ops tune` searches, checked before anything starts: the spec's `tune:` section or a `--space` file
// holding the same section, validated by the spec's own schema (so its messages and field names are the spec's),
// then every lever value tried on the base spec the way a trial will run it: a value the spec would refuse (a flag
// SGLang does not have, `max-running-requests: many`, `maxContainers` below `minContainers`) is refused now, named
// by its place in the space, rather than found by a trial after a deploy.

/** The section to tune with, defaults filled in (the workload defaults to the spec's `slo.load`), or every problem. */
export type TuneSectionResult =
  { ok: true; tune: TuneSpec & { workload: NonNullable<TuneSpec['workload']> } } | { ok: false; errors: SpecIssue[] };

/** Lint rules whose errors say a lever value cannot even be passed to SGLang or Modal (not "this will not serve well"). */
const REFUSING_RULES = /^(sglang-flag-|modal-min-above-max$)/;

/**
 * The tune section for `spec`: the `--space` file's text when given (it replaces the spec's section), else the
 * spec's own `tune:`. Issue paths are the file's own: `space.args.max-running-requests[1]` in a space file,
 * `tune.space.args.max-running-requests[1]` in the spec.
 */
export function resolveTuneSection(spec: Spec, space?: { text: string }): TuneSectionResult {
  if (!space) {
    if (!spec.tune) {
      return fail(
        'tune',
        'the spec has no tune section and no --space FILE was given: add `tune: { space: { args: { max-running-requests: [32, 48, 64] } } }` or pass --space',
      );
    }
    return checked(spec, spec.tune, 'tune.');
  }
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(space.text, { lineCounter, uniqueKeys: true, prettyErrors: false, schema: 'core' });
  if (doc.errors.length > 0)
    return { ok: false, errors: yamlSyntaxIssues(space.text, doc.errors, lineCounter, () => '') };
  const data: unknown = doc.toJS({ maxAliasCount: 50 });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail('', 'a --space file holds the tune section itself, a mapping: `space: { args: { … } }`, `budget`, …');
  }
  // The spec's schema judges the section in its place, so the messages match a spec's; paths drop the `tune.`.
  const parsed = validateSpecData({ ...spec, tune: data });
  if (!parsed.ok) {
    return { ok: false, errors: parsed.errors.map((issue) => locate(unprefixed(issue), doc, lineCounter, space.text)) };
  }
  const result = checked(parsed.spec, parsed.spec.tune!, '');
  if (result.ok) return result;
  return { ok: false, errors: result.errors.map((issue) => locate(issue, doc, lineCounter, space.text)) };
}

/** The section's lever values tried on the spec, and the workload against the SLO's sample floor. */
function checked(spec: Spec, tune: TuneSpec, prefix: string): TuneSectionResult {
  const errors: SpecIssue[] = [];
  for (const lever of leversOf(tune.space)) {
    const written = tune.space[lever.section][lever.name as keyof (typeof tune.space)[typeof lever.section]];
    const isList = Array.isArray(written);
    const seen = new Set<string>();
    for (const [i, value] of expand(written!).entries()) {
      const where = `${prefix}space.${lever.section}.${lever.name}${isList ? `[${i}]` : ''}`;
      const problem = valueProblem(spec, lever.section, lever.name, value);
      if (problem && !seen.has(problem)) {
        seen.add(problem);
        errors.push({ path: where, message: `${JSON.stringify(value)}: ${problem}` });
      }
    }
  }
  const workload = tune.workload ?? spec.slo.load;
  const requests = sloRequestCount(workload);
  if (spec.slo.minSamples > requests) {
    errors.push({
      path: `${prefix}workload${tune.workload ? '.requests' : ''}`,
      message: `the workload sends ${requests} request(s), fewer than slo.minSamples ${spec.slo.minSamples}: every trial would be inconclusive; raise the workload's requests`,
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, tune: { ...tune, workload } };
}

/** Why the spec with this one lever value set would be refused, or undefined. */
function valueProblem(
  spec: Spec,
  section: 'args' | 'modal',
  name: string,
  value: string | number | boolean,
): string | undefined {
  const candidate: Spec =
    section === 'args'
      ? { ...spec, sglang: { ...spec.sglang, args: { ...spec.sglang.args, [name]: value } } }
      : { ...spec, modal: { ...spec.modal, [name]: value } };
  const field = section === 'args' ? `sglang.args.${name}` : `modal.${name}`;
  const parsed = validateSpecData(candidate);
  if (!parsed.ok) {
    const issue = parsed.errors.find((e) => e.path === field || e.path.startsWith(`${field}.`)) ?? parsed.errors[0]!;
    return issue.path === field ? issue.message : `${issue.path}: ${issue.message}`;
  }
  const finding = lintSpec(parsed.spec).find(
    (f) =>
      f.level === 'error' &&
      REFUSING_RULES.test(f.rule) &&
      (f.path === field || (section === 'modal' && f.path.startsWith('modal.'))),
  );
  return finding ? `${finding.message} [${finding.rule}] (fix: ${finding.fix})` : undefined;
}

function unprefixed(issue: SpecIssue): SpecIssue {
  return { ...issue, path: issue.path.replace(/^tune\.?/, ''), message: issue.message.replace(/\btune\./g, '') };
}

/** Issues with the line and column of their field in `text` (the spec or space file), where the field is written. */
export function locateIssues(text: string, issues: readonly SpecIssue[]): SpecIssue[] {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, schema: 'core' });
  return issues.map((issue) => (issue.line !== undefined ? issue : locate(issue, doc, lineCounter, text)));
}

/** The issue with the line and column of its field in the file, where the field is written. */
function locate(issue: SpecIssue, doc: YAML.Document, lineCounter: YAML.LineCounter, text: string): SpecIssue {
  const segments = issue.path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((segment) => segment !== '')
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  // The deepest field written: a scalar at its value, a mapping, a list or an unknown key at its key.
  for (let depth = segments.length; depth >= 1; depth -= 1) {
    const parent = depth === 1 ? doc.contents : doc.getIn(segments.slice(0, depth - 1), true);
    const last = segments[depth - 1];
    const pair = YAML.isMap(parent)
      ? parent.items.find((item) => YAML.isScalar(item.key) && String(item.key.value) === String(last))
      : undefined;
    const node = pair
      ? YAML.isScalar(pair.value)
        ? pair.value
        : pair.key
      : YAML.isSeq(parent)
        ? parent.items[Number(last)]
        : undefined;
    if (YAML.isNode(node) && node.range) {
      const position = lineCounter.linePos(node.range[0]);
      const source = text.split(/\r?\n/)[position.line - 1] ?? '';
      return { ...issue, line: position.line, column: position.col, source };
    }
  }
  return issue;
}

function fail(path: string, message: string): TuneSectionResult {
  return { ok: false, errors: [{ path, message }] };
}
