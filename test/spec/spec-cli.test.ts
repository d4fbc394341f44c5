import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { REPO_ROOT } from '../helpers/repo-files';
import { builtCliEntry } from '../helpers/built-lib';

// The real CLI from lib/ (scripts/setup.sh builds it; builtCliEntry refuses a stale one).
let entry: string;
beforeAll(() => (entry = builtCliEntry()));

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(process.execPath, [entry, ...args], {
    cwd: REPO_ROOT,
    reject: false,
    env: { ...env, NODE_PATH: path.join(REPO_ROOT, 'node_modules') },
  });

const fixture = (name: string) => path.join(REPO_ROOT, 'test', 'fixtures', 'spec', 'rules', name);

describe('glm-ops spec check', () => {
  it('exits 0 for the production example', async () => {
    const result = await run(['spec', 'check', 'examples/glm-5.1-b200.yaml']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/ok \(2 acknowledged warnings\)/);
    expect(result.stdout).toMatch(/^ack {5}modal\.maxInputs: .*\n {8}acknowledged \(accepts modal\.maxInputs 20\): /m);
  });

  it('an acknowledged value that got worse is a warning again, and the rest stay listed as acknowledged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-spec-ack-'));
    const file = path.join(dir, 'worse.yaml');
    const example = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'glm-5.1-b200.yaml'), 'utf8');
    fs.writeFileSync(file, example.replace('  maxInputs: 20', '  maxInputs: 8'));
    const result = await run(['spec', 'check', file]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(': 0 errors, 1 warning, 1 acknowledged');
    expect(result.stdout).toMatch(/^warning modal\.maxInputs: .*accepts modal\.maxInputs 20, not 8/m);
    expect(result.stdout).toMatch(/^ack {5}model\.revision: /m);
  });

  it('a misspelled SGLang flag exits 2 with a did-you-mean, and says which flag table was used', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-spec-typo-'));
    const file = path.join(dir, 'typo.yaml');
    const example = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'glm-5.1-b200.yaml'), 'utf8');
    fs.writeFileSync(file, example.replace('mem-fraction-static: 0.88', 'mem-fraction-statik: 0.8'));
    const result = await run(['spec', 'check', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain(
      'error   sglang.args.mem-fraction-statik: "mem-fraction-statik" is not a flag of SGLang 0.5.10: did you mean mem-fraction-static? [sglang-flag-unknown]',
    );
    expect(result.stdout).toContain('fix: rename it to mem-fraction-static');
    expect(result.stdout).toContain("sglang.args: checked against SGLang 0.5.10's flag table");
    const json = await run(['spec', 'check', '--json', file]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      exitCode: 2,
      flagTable: { version: '0.5.10', imageVersion: '0.5.10', choice: 'exact' },
      findings: [expect.objectContaining({ rule: 'sglang-flag-unknown', path: 'sglang.args.mem-fraction-statik' })],
    });
  });

  it('exits 1 with warnings only, listing path, level, reason and fix', async () => {
    const result = await run(['spec', 'check', fixture('reasoning-parser.trigger.yaml')]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      /^warning sglang\.args\.reasoning-parser: .* \[reasoning-parser\] \(why: guide §18 .*; fix: set reasoning-parser: glm45\)$/m,
    );
  });

  it('exits 2 with errors and prints JSON for machines', async () => {
    const result = await run(['spec', 'check', '--json', fixture('fp8-kv-with-eagle.trigger.yaml')]);
    expect(result.exitCode).toBe(2);
    const report = JSON.parse(result.stdout) as {
      exitCode: number;
      findings: { rule: string; level: string; reason: string }[];
    };
    expect(report.exitCode).toBe(2);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'fp8-kv-with-eagle', level: 'error', reason: expect.stringMatching(/#22359/) }),
      ]),
    );
  });

  it('uses the kernel marker given on the command line', async () => {
    const result = await run(['spec', 'check', 'examples/glm-5.1-b200.yaml', '--kernel-gpu', 'H200']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/kernel-cache-mismatch/);
  });

  describe('bad input: one line with path and line, exit 2, no stack trace', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-spec-bad-'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const example = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'glm-5.1-b200.yaml'), 'utf8');

    it.each([
      ['malformed.yaml', 'app: x\nmodel: {repo: a/b\n', /malformed\.yaml:\d+:\d+: YAML syntax error: /],
      [
        'missing-colon.yaml',
        example.replace('modal:\n', 'modal\n'),
        /missing-colon\.yaml:\d+:1: YAML syntax error: "modal" has no ":"/,
      ],
      [
        'count-eight.yaml',
        example.replace('count: 8', 'count: "eight"'),
        /count-eight\.yaml:12:27: gpu\.count: "count" must be a whole number from 1 to 8, got "eight"$/,
      ],
      [
        'wrong-type.yaml',
        example.replace('maxInputs: 20', 'maxInputs: lots'),
        /wrong-type\.yaml:\d+:\d+: modal\.maxInputs: "maxInputs" must be a whole number from 1 to 10000, got "lots"/,
      ],
      [
        'negative.yaml',
        example.replace('startupTimeout: 900', 'startupTimeout: -5'),
        /negative\.yaml:\d+:\d+: health\.startupTimeout: /,
      ],
      [
        'duplicate.yaml',
        example.replace('  weightsGB: 700\n', '  weightsGB: 700\n  weightsGB: 1\n'),
        /duplicate\.yaml:12:3: model\.weightsGB: duplicate key/,
      ],
      ['binary.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), /binary\.yaml: .*binary/],
      ['huge.yaml', Buffer.alloc(10 * 1024 * 1024, 0x61), /huge\.yaml: .*limit/],
    ])('%s', async (name, content, pattern) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      const result = await run(['spec', 'check', file]);
      expect(result.exitCode).toBe(2);
      // One message: its first line names file, line and field; a source line and a caret may follow it.
      const lines = result.stderr.trim().split('\n');
      expect(lines.filter((line) => line.startsWith('glm-ops: '))).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(lines.slice(1).every((line) => /^ {2}(\d+| +) \| /.test(line))).toBe(true);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });

    it('a missing file', async () => {
      const result = await run(['spec', 'check', path.join(dir, 'nope.yaml')]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim()).toMatch(/^glm-ops: .*no such file/);
    });
  });
});

describe('glm-ops spec render', () => {
  it('prints the deploy config and writes it with --out', async () => {
    const printed = await run(['spec', 'render', 'examples/glm-5.1-b200.yaml']);
    expect(printed.exitCode).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({
      app: 'glm-5.1-production',
      gpu: 'B200:8',
      kernelMarkerName: '.compiled-GLM-5.1-FP8',
    });
    const out = path.join(os.tmpdir(), `glm-ops-render-${process.pid}.json`);
    try {
      const written = await run(['spec', 'render', 'examples/local-demo.yaml', '--out', out]);
      expect(written.exitCode).toBe(0);
      expect(JSON.parse(fs.readFileSync(out, 'utf8')).app).toBe('glm-5.1-local-demo');
    } finally {
      fs.rmSync(out, { force: true });
    }
  });

  it('refuses a spec with lint errors', async () => {
    const result = await run(['spec', 'render', fixture('tool-call-parser.trigger.yaml')]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/tool-call-parser/);
  });
});

describe('glm-ops cost', () => {
  it("prints the guide's three strategies", async () => {
    const result = await run(['cost', 'examples/glm-5.1-b200.yaml']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/\| Scale-to-zero \(~8 h\/day traffic\) \| 240 \| \$12,000 \|/);
    expect(result.stdout).toMatch(/\| Always-on \(min_containers=1\) \| 720 \| \$36,000 \|/);
  });

  it('takes price overrides from the environment and flags, and prints JSON', async () => {
    const fromEnv = JSON.parse(
      (await run(['cost', '--json', 'examples/glm-5.1-b200.yaml'], { GLM_OPS_GPU_PRICE_B200: '5' })).stdout,
    ) as { dollarsPerGpuHour: number; priceSource: string };
    expect(fromEnv).toMatchObject({ dollarsPerGpuHour: 5, priceSource: 'env' });
    const fromFlag = JSON.parse(
      (await run(['cost', '--json', '--price', '4', '--active-hours', '10', 'examples/glm-5.1-b200.yaml'])).stdout,
    ) as { strategies: { dollarsPerMonth: number }[] };
    expect(fromFlag.strategies[0]!.dollarsPerMonth).toBeCloseTo(10 * 30 * 32);
    const bad = await run(['cost', '--price', 'free', 'examples/glm-5.1-b200.yaml']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/--price "free" must be a positive number/);
  });
});
