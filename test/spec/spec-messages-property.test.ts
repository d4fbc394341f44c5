import * as fc from 'fast-check';
import * as YAML from 'yaml';
import { parseSpecText } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';

const base = YAML.parse(readRepoFile('examples/glm-5.1-b200.yaml')) as Record<string, unknown>;

/** zod's own default wording: none of it may reach the user. */
const RAW_ZOD =
  /Invalid (input|option|key|element|string|number|union)|Too (small|big)|Unrecognized key|received (string|number|undefined|object|array|boolean|null)|expected (string|number|int|boolean|object|array|record)\b/;

/** Every path to a mapping or a leaf in the example. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...prefix, key]))];
}
const paths = pathsOf(base).filter((path) => path.length > 0);

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z]{0,8}$/), fc.integer(), { maxKeys: 2 }),
);

type Mutation =
  | { kind: 'set'; path: string[]; value: unknown }
  | { kind: 'delete'; path: string[] }
  | { kind: 'add'; path: string[]; key: string };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...paths), value: junk }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
  fc.record({
    kind: fc.constant('add' as const),
    path: fc.constantFrom([], ...paths),
    key: fc.stringMatching(/^[a-z][a-zA-Z]{0,10}$/),
  }),
);

function apply(doc: Record<string, unknown>, change: Mutation): void {
  const parentPath = change.kind === 'add' ? change.path : change.path.slice(0, -1);
  let parent: unknown = doc;
  for (const key of parentPath) {
    if (parent === null || typeof parent !== 'object') return;
    parent = (parent as Record<string, unknown>)[key];
  }
  if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) return;
  const target = parent as Record<string, unknown>;
  if (change.kind === 'add') target[change.key] = 1;
  else if (change.kind === 'delete') delete target[change.path[change.path.length - 1]!];
  else target[change.path[change.path.length - 1]!] = change.value;
}

describe('spec messages over mutated example specs', () => {
  it("every issue names its field and a line, in our words, never zod's", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (changes) => {
        const doc = structuredClone(base);
        for (const change of changes) apply(doc, change);
        const parsed = parseSpecText(YAML.stringify(doc));
        if (parsed.ok) return;
        for (const issue of parsed.errors) {
          expect(issue.message).not.toMatch(RAW_ZOD);
          expect(issue.path).not.toBe('');
          expect(issue.line === undefined || issue.line >= 1).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
