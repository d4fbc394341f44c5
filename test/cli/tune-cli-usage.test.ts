import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { builtCliEntry } from '../helpers/built-lib';
import { readRepoFile } from '../helpers/repo-files';

/**
 * `glm-ops tune` refuses bad input before any side effect: the built CLI in a scratch state folder, which must stay
 * empty (no embedded stack started, no Temporal reached, no workflow), exit 2, and the message names the field.
 */
describe('glm-ops tune: bad input exits 2 naming the field, before anything starts', () => {
  let home: string;
  let dir: string;
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-tune-usage-'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-tune-files-'));
  });
  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const demo = readRepoFile('examples/local-demo.yaml');
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const cli = (args: string[]) =>
    execa(process.execPath, [builtCliEntry(), ...args], { env: { ...process.env, GLM_OPS_HOME: home }, reject: false });

  const cases: Array<[string, () => string[], RegExp]> = [
    ['no spec', () => ['tune'], /^error: missing required argument 'spec'/],
    [
      'a spec without a tune section and no --space',
      () => ['tune', 'examples/glm-5.1-b200.yaml'],
      /examples\/glm-5\.1-b200\.yaml: tune: the spec has no tune section and no --space FILE/,
    ],
    [
      "a bad value in the spec's tune section (the spec's own validation, with its line)",
      () => ['tune', write('bad-budget.yaml', demo.replace('budget: { trials: 12 }', 'budget: { trials: 0 }'))],
      /bad-budget\.yaml:\d+:\d+: tune\.budget\.trials: "trials" must be a whole number from 1 to 1000, got 0/,
    ],
    [
      'a lever value SGLang would refuse, in the spec',
      () => [
        'tune',
        write(
          'bad-lever.yaml',
          demo.replace('max-running-requests: [32, 48, 64]', 'max-running-requests: [32, lots, 64]'),
        ),
      ],
      /bad-lever\.yaml:\d+:\d+: tune\.space\.args\.max-running-requests\[1\]: "lots": "max-running-requests" must be a positive integer/,
    ],
    [
      'a --space file with an unknown flag (named by its place in the file, with its line)',
      () => [
        'tune',
        'examples/local-demo.yaml',
        '--space',
        write('space.yaml', 'space:\n  args:\n    max-runing-requests: [32, 48]\n'),
      ],
      /space\.yaml:3:\d+: space\.args\.max-runing-requests\[0\]: 32: "max-runing-requests" is not a flag of SGLang/,
    ],
    [
      'a --space file that does not exist',
      () => ['tune', 'examples/local-demo.yaml', '--space', path.join(dir, 'missing.yaml')],
      /--space .*missing\.yaml: ENOENT/,
    ],
    [
      '--write without waiting for the end',
      () => ['tune', 'examples/local-demo.yaml', '--no-wait', '--write'],
      /--write needs the tune's end: drop --no-wait/,
    ],
    [
      '--report at a file',
      () => ['tune', 'examples/local-demo.yaml', '--report', write('a-file', 'x')],
      /--report .*a-file: .*a-file is not a folder/,
    ],
    ['tune status without an app', () => ['tune', 'status'], /^error: missing required argument 'app'/],
    [
      'tune abort without a reason',
      () => ['tune', 'abort', 'glm-5.1-local-demo'],
      /^error: required option '--reason <text>' not specified/,
    ],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    const run = await cli(args());
    expect({ exitCode: run.exitCode, stdout: run.stdout }).toEqual({ exitCode: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Nothing started: the embedded stack keeps its state under GLM_OPS_HOME, which is still empty.
    expect(fs.readdirSync(home)).toEqual([]);
  });

  it('tune --help lists the subcommands and the flags; status and abort have their own help', async () => {
    const help = await cli(['tune', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: glm-ops tune \[options\] \[command\] <spec>/);
    for (const flag of ['--space <file>', '--write', '--no-wait', '--report <dir>', '--json'])
      expect(help.stdout).toContain(flag);
    expect(help.stdout).toMatch(/status \[options\] <app>/);
    expect(help.stdout).toMatch(/abort \[options\] <app>/);
    const status = await cli(['tune', 'status', '--help']);
    expect(status.stdout).toMatch(/^Usage: glm-ops tune status \[options\] <app>/);
    expect(status.stdout).toContain('--json');
  });
});
