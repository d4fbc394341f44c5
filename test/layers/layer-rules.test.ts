import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The layer check (`npm run lint:layers`, run by `npm test` on the real src/) is only as good as its rules: this runs
// dependency-cruiser with the project's own config on a small planted tree and asserts that each kind of violation is
// reported, and that the imports the layering allows are not.

const root = path.resolve(__dirname, '..', '..');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** The planted tree: file → source. Names say what each import is. */
const TREE: Record<string, string> = {
  'src/spec/schema.ts': 'export interface Spec { app: string }\nexport const SPEC_VERSION = 1;\n',
  // Upward: spec/ sits below platforms/.
  'src/spec/upward.ts': "import type { Port } from '../platforms/platform';\nexport type P = Port;\n",
  // Downward: allowed.
  'src/platforms/platform.ts': "import type { Spec } from '../spec/schema';\nexport interface Port { spec: Spec }\n",
  'src/platforms/local/local-adapter.ts': "import type { Port } from '../platform';\nexport type L = Port;\n",
  // One adapter importing the other.
  'src/platforms/modal/modal-adapter.ts': "import type { L } from '../local/local-adapter';\nexport type M = L;\n",
  // Siblings of one rank.
  'src/hub/hub.ts': 'export const HUB = 1;\n',
  'src/storage/sibling.ts': "import { HUB } from '../hub/hub';\nexport const S = HUB;\n",
  // Every layer uses shared/'s vocabulary; shared/ may name a spec type (the one upward edge), but not import spec code.
  'src/shared/errors.ts': "export const ErrorType = { SpecInvalid: 'SpecInvalid' } as const;\n",
  'src/spec/uses-vocabulary.ts':
    "import { ErrorType } from '../shared/errors';\nexport const T = ErrorType.SpecInvalid;\n",
  'src/shared/contract.ts': "import type { Spec } from '../spec/schema';\nexport interface Input { spec: Spec }\n",
  'src/shared/value-from-spec.ts': "import { SPEC_VERSION } from '../spec/schema';\nexport const V = SPEC_VERSION;\n",
  // Workflows: activities as types only, no Node built-ins, nothing else of src/.
  'src/activities/index.ts': 'export const createActivities = () => ({ async ping() {} });\n',
  'src/workflows/typed.ts':
    "import type { createActivities } from '../activities';\nexport type A = ReturnType<typeof createActivities>;\n",
  'src/workflows/value-from-activities.ts':
    "import { createActivities } from '../activities';\nexport const a = createActivities;\n",
  'src/workflows/node-builtin.ts': "import * as fs from 'node:fs';\nexport const read = fs.readFileSync;\n",
  'src/workflows/spec-type.ts': "import type { Spec } from '../spec/schema';\nexport type S = Spec;\n",
  // A cycle inside one folder.
  'src/triage/a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
  'src/triage/b.ts': "import { a } from './a';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n",
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

let violations: Violation[];

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-layers-'));
  try {
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
    for (const [file, source] of Object.entries(TREE)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), source);
    }
    const args = [depcruise, 'src', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'];
    let output: string;
    try {
      output = execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
    } catch (err) {
      // Violations make depcruise exit non-zero; the report is still on stdout.
      output = (err as { stdout: string }).stdout;
    }
    violations = (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

const reported = (rule: string): string[] =>
  violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} -> ${v.to}`);
const fromFile = (file: string): string[] => violations.filter((v) => v.from === file).map((v) => v.rule.name);

describe('the layer rules of .dependency-cruiser.cjs', () => {
  it('report an upward import by the layer it breaks', () => {
    expect(reported('layer-spec')).toEqual(['src/spec/upward.ts -> src/platforms/platform.ts']);
  });

  it('report an import between siblings of one rank and between the two platform adapters', () => {
    expect(reported('layer-storage')).toEqual(['src/storage/sibling.ts -> src/hub/hub.ts']);
    expect(reported('adapters-independent')).toEqual([
      'src/platforms/modal/modal-adapter.ts -> src/platforms/local/local-adapter.ts',
    ]);
  });

  it('let shared/ name spec/ types (type-only, the one upward edge) but not import spec/ code', () => {
    expect(reported('shared-types-and-constants')).toEqual(['src/shared/value-from-spec.ts -> src/spec/schema.ts']);
  });

  it('keep workflows to activity types: no activity value, no Node built-in, no other layer', () => {
    expect(reported('workflows-deterministic').sort()).toEqual([
      'src/workflows/node-builtin.ts -> fs',
      'src/workflows/value-from-activities.ts -> src/activities/index.ts',
    ]);
    expect(reported('workflows-types-from-activities-only')).toEqual([
      'src/workflows/spec-type.ts -> src/spec/schema.ts',
    ]);
  });

  it('report a cycle (once, at the module where the search entered it)', () => {
    expect(reported('no-circular')).toEqual(['src/triage/a.ts -> src/triage/b.ts']);
  });

  it('allow what the layering allows: downward imports, port imports by adapters, type-only contracts', () => {
    for (const file of [
      'src/platforms/platform.ts',
      'src/platforms/local/local-adapter.ts',
      'src/shared/contract.ts',
      'src/spec/uses-vocabulary.ts',
      'src/workflows/typed.ts',
    ]) {
      expect({ file, rules: fromFile(file) }).toEqual({ file, rules: [] });
    }
  });
});
