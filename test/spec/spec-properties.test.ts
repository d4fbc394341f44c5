import * as fc from 'fast-check';
import * as YAML from 'yaml';
import { buildSglangArgv } from '../../src/spec/argv-builder';
import { lintSpec } from '../../src/spec/lint';
import { parseSpecText } from '../../src/spec/parse-spec';
import { newestFlagTable } from '../../src/spec/sglang-flags';
import { resolveSpecFlag } from '../../src/spec/spec-flags';
import { readRepoFile } from '../helpers/repo-files';

const base = YAML.parse(readRepoFile('examples/glm-5.1-b200.yaml')) as Record<string, unknown>;

const flagName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
  .filter(
    (name) =>
      !['model-path', 'served-model-name', 'host', 'port', 'api-key', 'tp', 'tp-size', 'tensor-parallel-size'].includes(
        name,
      ),
  )
  // Names SGLang knows (or abbreviates) render in their canonical spelling, covered by argv-builder.test.ts; this
  // property is about names passing through untouched. `img:1` names no version, so the newest table applies.
  .filter((name) => resolveSpecFlag(newestFlagTable(), name).kind !== 'flag');
const safeValue = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -1000, max: 1_000_000 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.stringMatching(/^[A-Za-z0-9_.:/=,+@%][A-Za-z0-9_.:/=,+@%-]{0,30}$/),
);

/** Parses an argv back into flag → value, the way argparse would see it. */
function argvToFlags(argv: string[]): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i]!;
    expect(flag.startsWith('--')).toBe(true);
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('--') && !/^-\d/.test(next))) flags.set(flag.slice(2), true);
    else {
      flags.set(flag.slice(2), next);
      i += 1;
    }
  }
  return flags;
}

describe('schema properties', () => {
  it('any valid spec renders an argv that round-trips to its flags', () => {
    fc.assert(
      fc.property(
        fc.dictionary(flagName, safeValue, { maxKeys: 12 }),
        fc.constantFrom('B200', 'B300', 'H200', 'H100'),
        fc.integer({ min: 1, max: 8 }),
        (extraArgs, gpuType, gpuCount) => {
          // Known flags are type-checked; keep the generated ones to unknown names.
          const args = Object.fromEntries(
            Object.entries(extraArgs).filter(([name]) => !(name in (base.sglang as { args: object }).args)),
          );
          const doc = { ...base, gpu: { type: gpuType, count: gpuCount }, sglang: { image: 'img:1', args } };
          const parsed = parseSpecText(YAML.stringify(doc));
          if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
          const argv = buildSglangArgv(parsed.spec);
          const flags = argvToFlags(argv);
          expect(flags.get('tp-size')).toBe(String(gpuCount));
          for (const [name, value] of Object.entries(args)) {
            if (value === false) expect(flags.has(name)).toBe(false);
            else expect(flags.get(name)).toBe(value === true ? true : String(value));
          }
          expect(argv.every((element) => !/[\s;&|`$<>]/.test(element))).toBe(true);
          lintSpec(parsed.spec);
        },
      ),
      { numRuns: 150 },
    );
  });

  const numericPaths: [string[], fc.Arbitrary<unknown>][] = [
    [['gpu', 'count'], fc.oneof(fc.integer({ min: 9, max: 1e6 }), fc.integer({ max: 0 }), fc.constant('8'))],
    [['model', 'weightsGB'], fc.oneof(fc.double({ max: 0, noNaN: true }), fc.constant(1e12), fc.constant('700'))],
    [
      ['modal', 'maxInputs'],
      fc.oneof(fc.integer({ max: 0 }), fc.double({ min: 1.1, max: 1.9, noNaN: true }), fc.constant(null)),
    ],
    [['modal', 'scaledownWindow'], fc.oneof(fc.integer({ max: 1 }), fc.integer({ min: 86_401, max: 1e9 }))],
    [['health', 'startupTimeout'], fc.oneof(fc.double({ max: 0, noNaN: true }), fc.constant(true))],
    [
      ['sglang', 'args', 'mem-fraction-static'],
      fc.oneof(fc.double({ min: 1, max: 100, noNaN: true }), fc.double({ max: 0, noNaN: true }), fc.constant('0.88')),
    ],
    [
      ['sglang', 'args', 'max-running-requests'],
      fc.oneof(fc.integer({ max: 0 }), fc.double({ min: 1.1, max: 47.9, noNaN: true }), fc.constant('48')),
    ],
    [
      ['sglang', 'args', 'tool-call-parser'],
      fc.oneof(fc.constant('glm47 x'), fc.constant('a;b'), fc.constant('-x'), fc.constant(''), fc.constant(47)),
    ],
    [['app'], fc.oneof(fc.constant(''), fc.constant('has space'), fc.constant('x'.repeat(64)))],
    [['keepWarm', 'enabled'], fc.constantFrom('yes', 1, 'true')],
  ];

  it('any mutation to a bad value yields an error naming its path', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...numericPaths.map((_, index) => index))
          .chain((index) => fc.tuple(fc.constant(numericPaths[index]![0]), numericPaths[index]![1])),
        ([path, bad]) => {
          const doc = YAML.parseDocument(readRepoFile('examples/glm-5.1-b200.yaml'));
          doc.setIn(path, bad);
          const parsed = parseSpecText(doc.toString());
          expect(parsed.ok).toBe(false);
          if (parsed.ok) return;
          expect(parsed.errors.map((error) => error.path)).toContain(path.join('.'));
          expect(parsed.errors.every((error) => typeof error.line === 'number' && error.line > 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constantFrom('{', '[', '&a [*a]', '!!binary x', '? a\n: b'),
        ),
        (text) => {
          const result = parseSpecText(text);
          if (!result.ok) for (const error of result.errors) expect(error.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
