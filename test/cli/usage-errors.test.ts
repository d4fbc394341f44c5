import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { builtCliEntry } from '../helpers/built-lib';
import { REPO_ROOT } from '../helpers/repo-files';

/**
 * Usage errors and help as a user meets them: the built CLI run as a child process, in a scratch state folder. None of
 * these commands reaches Temporal or the platform (a usage error stops before any action runs).
 */
describe('glm-ops usage errors exit 2, help and --version exit 0', () => {
  let home: string;
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-usage-'));
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  const cli = (args: string[]) =>
    execa(process.execPath, [builtCliEntry(), ...args], { env: { ...process.env, GLM_OPS_HOME: home }, reject: false });

  it.each([
    ['an unknown command with --help', ['approve', '--help'], /^error: unknown command 'approve'\n/],
    ['an unknown command', ['approve'], /^error: unknown command 'approve'\n/],
    [
      'a misspelt command (did you mean)',
      ['rolout', 'x.yaml'],
      /^error: unknown command 'rolout'\n\(Did you mean rollout\?\)/,
    ],
    [
      'a misspelt subcommand with --help',
      ['keepwarm', 'enabel', '--help'],
      /^error: unknown command 'enabel'\n\(Did you mean enable\?\)/,
    ],
    ['help of an unknown command', ['help', 'approve'], /^error: unknown command 'approve'\n/],
    ['an unknown option', ['rollout', '--bogus', 'x.yaml'], /^error: unknown option '--bogus'\n/],
    ['a missing argument', ['rollout'], /^error: missing required argument 'spec'\n/],
    ['a group without its subcommand', ['keepwarm'], /^Usage: glm-ops keepwarm /],
  ])('%s: exit 2 with one error and a pointer to --help, no stack trace', async (_name, args, message) => {
    const run = await cli(args);
    expect({ exitCode: run.exitCode, stdout: run.stdout }).toEqual({ exitCode: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a usage error is one message and a hint, not the whole command list', async () => {
    const run = await cli(['approve']);
    expect(run.stderr).toBe("error: unknown command 'approve'\n(add --help for additional information)");
  });

  it('--help of a known command and of a nested one still prints that help (exit 0)', async () => {
    const top = await cli(['--help']);
    expect(top.exitCode).toBe(0);
    expect(top.stdout).toMatch(/^Usage: glm-ops \[options\] \[command\]/);
    const nested = await cli(['keepwarm', 'status', '--help']);
    expect(nested.exitCode).toBe(0);
    expect(nested.stdout).toMatch(/^Usage: glm-ops keepwarm status \[options\] <spec-or-app>/);
    const viaHelp = await cli(['help', 'rollout']);
    expect(viaHelp.exitCode).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Usage: glm-ops rollout /);
  });

  it('--version and -V print package.json’s version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const run = await cli([flag]);
      expect({ exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr }).toEqual({
        exitCode: 0,
        stdout: version,
        stderr: '',
      });
    }
  });

  it('emulator --help prints glm-ops help for the twin and its settings without --model-path (exit 0)', async () => {
    const run = await cli(['emulator', '--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: glm-ops emulator \[options\] \[sglang-flags\.\.\.\]/);
    expect(run.stdout).toContain('GLM_OPS_EMULATOR_SGLANG_IMAGE');
    expect(run.stdout).not.toMatch(/required: --model-path/);
  });

  it('emulator without --model-path still fails as SGLang does (argparse message, exit 2)', async () => {
    const run = await cli(['emulator', '--port', '1']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/error: the following arguments are required: --model-path/);
  });
});
