import type * as z from 'zod';
import { closestMatches } from './edit-distance';
import { defOf, unwrapSchema, type CheckDef } from './schema-walk';
import { isSecretField, MASK } from './secret-text';

/**
 * zod's error map for spec files: every issue the schema can raise, said the way `"tp" must be a positive integer,
 * got "eight"` says it — the field, what it must be (its type and range, read from the schema), and what was written.
 * Messages the schema spells out itself (refinements, regex reasons) outrank this map, as zod's precedence has it.
 */
export const specErrorMap: z.core.$ZodErrorMap = (issue) => {
  const subject = subjectOf(issue.path);
  const schema = owningSchema(issue);
  const expected = schema ? describeExpected(schema) : undefined;
  const last = issue.path?.[issue.path.length - 1];
  const got = `got ${typeof last === 'string' && isSecretField(last) ? MASK : describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined)
        return `${subject || 'a field '}is required and missing: add it (${expected ?? describeTypeName(issue.expected)})`;
      return `${subject}must be ${expected ?? describeTypeName(issue.expected)}, ${got}`;
    case 'too_small':
    case 'too_big':
    case 'not_multiple_of':
    case 'invalid_format':
      return `${subject}must be ${expected ?? boundOf(issue)}, ${got}`;
    case 'invalid_value': {
      const choices = issue.values.map((value) => JSON.stringify(value));
      const suggestion =
        typeof issue.input === 'string'
          ? closestMatches(
              issue.input,
              issue.values.filter((value): value is string => typeof value === 'string'),
              1,
            )[0]
          : undefined;
      return `${subject}must be ${choices.length === 1 ? choices[0] : `one of ${choices.join(', ')}`}, ${got}${suggestion !== undefined ? `: did you mean ${JSON.stringify(suggestion)}?` : ''}`;
    }
    case 'invalid_union':
      return `${subject}must be ${expected ?? 'another kind of value'}, ${got}`;
    case 'invalid_key':
      return `the key ${JSON.stringify(issue.input)} is not allowed here: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    case 'invalid_element':
      return `${subject}holds an invalid element: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`;
    case 'custom':
      return `${subject}is not valid${expected ? ` (expected ${expected})` : ''}, ${got}`;
    default:
      return `${subject}is not valid, ${got}`;
  }
};

/** `"count" ` for `gpu.count`; empty for the document itself or a record key checked on its own. */
function subjectOf(path: readonly PropertyKey[] | undefined): string {
  const last = path?.[path.length - 1];
  if (last === undefined) return '';
  return typeof last === 'number' ? `item ${last} ` : `${JSON.stringify(String(last))} `;
}

/** The schema the issue is about: the schema that raised it, or the one a raising check belongs to. */
function owningSchema(issue: z.core.$ZodRawIssue): z.core.$ZodType | undefined {
  const candidates = [issue.schema, issue.inst];
  for (const candidate of candidates) {
    if (candidate && (candidate as z.core.$ZodType)._zod.traits.has('$ZodType')) return candidate as z.core.$ZodType;
  }
  return undefined;
}

/** What a schema accepts, in words: "a whole number from 1 to 8", "text of at most 63 characters", "true or false". */
export function describeExpected(schema: z.core.$ZodType): string {
  const unwrapped = unwrapSchema(schema);
  const def = defOf(unwrapped);
  const checks = (def.checks ?? []).map((check) => check._zod.def);
  switch (def.type) {
    case 'number':
      return `${checks.some(isIntegerCheck) ? 'a whole number' : 'a number'}${describeNumberRange(checks)}`;
    case 'string':
      return describeText(checks);
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${Object.values(def.entries ?? {})
        .map((value) => JSON.stringify(value))
        .join(', ')}`;
    case 'literal':
      return 'a fixed value';
    case 'object':
      return 'a mapping of fields (key: value lines, or { key: value })';
    case 'record':
      return 'a mapping (key: value lines, or { key: value })';
    case 'array':
      return 'a list';
    case 'union':
      return joinAlternatives((def.options ?? []).map((option) => shortKind(option)));
    case 'null':
      return 'null';
    default:
      return 'a value of another kind';
  }
}

function isIntegerCheck(check: CheckDef): boolean {
  return check.check === 'number_format' && /int/.test(check.format ?? '');
}

function describeNumberRange(checks: readonly CheckDef[]): string {
  const lower = checks.find((check) => check.check === 'greater_than');
  const upper = checks.find((check) => check.check === 'less_than');
  const lowerText = lower?.value !== undefined ? (lower.inclusive ? `${lower.value}` : `above ${lower.value}`) : '';
  const upperText = upper?.value !== undefined ? `${upper.inclusive ? '' : 'below '}${upper.value}` : '';
  if (lower?.inclusive && upper?.inclusive) return ` from ${lowerText} to ${upperText}`;
  const parts = [
    lower ? (lower.inclusive ? `at least ${lower.value}` : lowerText) : '',
    upper ? (upper.inclusive ? `at most ${upper.value}` : upperText) : '',
  ].filter(Boolean);
  return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
}

function describeText(checks: readonly CheckDef[]): string {
  const minimum = checks.find((check) => check.check === 'min_length')?.minimum;
  const maximum = checks.find((check) => check.check === 'max_length')?.maximum;
  if (minimum !== undefined && minimum > 1)
    return maximum !== undefined
      ? `text of ${minimum} to ${maximum} characters`
      : `text of at least ${minimum} characters`;
  const base = minimum === 1 ? 'non-empty text' : 'text';
  return maximum !== undefined ? `${base} of at most ${maximum} characters` : base;
}

function shortKind(schema: z.core.$ZodType): string {
  const type = defOf(unwrapSchema(schema)).type;
  switch (type) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    default:
      return type;
  }
}

function joinAlternatives(kinds: readonly string[]): string {
  if (kinds.length <= 1) return kinds[0] ?? 'a value';
  return `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`;
}

function describeTypeName(expected: string): string {
  return { int: 'a whole number', object: 'a mapping', array: 'a list', record: 'a mapping' }[expected] ?? expected;
}

/** The bound itself, when the schema could not be found (a check raised the issue on its own). */
function boundOf(issue: z.core.$ZodRawIssue): string {
  const { minimum, maximum, inclusive } = issue as { minimum?: unknown; maximum?: unknown; inclusive?: boolean };
  if (minimum !== undefined) return `${inclusive ? 'at least' : 'above'} ${String(minimum)}`;
  if (maximum !== undefined) return `${inclusive ? 'at most' : 'below'} ${String(maximum)}`;
  return 'another value';
}

/** A written value as the reader would recognise it: `"eight"`, `800`, `a list`, `an empty value (null)`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value (null)';
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)}${value.length > 40 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  return String(value);
}
