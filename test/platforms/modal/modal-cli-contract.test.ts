import execa from 'execa';
import * as path from 'node:path';
import * as commands from '../../../src/platforms/modal/modal-commands';

/**
 * Every subcommand and flag the adapter builds must exist in the installed client's `--help`: a modal upgrade that
 * renames one fails here, not in a production rollout.
 */
const root = path.join(__dirname, '..', '..', '..');
const modalBin = path.join(root, '.venv', 'bin', 'modal');
const deployPy = path.join(root, 'modal', 'deploy.py');
const scope = { environment: 'main' };

async function helpText(args: string[]): Promise<string> {
  const result = await execa(modalBin, [...args, '--help'], {
    env: { ...process.env, COLUMNS: '200', NO_COLOR: '1' },
    timeout: 60_000,
  });
  return result.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}

/** The subcommand words (before the first positional) and the flags of an argv. */
function flagsOf(argv: string[]): string[] {
  return argv.filter((part) => /^--?[a-z]/.test(part) && part !== '-');
}

const cases: Array<[string, string[], string[]]> = [
  ['deploy', ['deploy'], commands.deployArgv(deployPy, 'app', 'rollout-1', scope)],
  ['app history', ['app', 'history'], commands.appHistoryArgv('app', scope)],
  ['app list', ['app', 'list'], commands.appListArgv(scope)],
  ['app rollback', ['app', 'rollback'], commands.appRollbackArgv('app', 3, scope)],
  ['app stop', ['app', 'stop'], commands.appStopArgv('app', scope)],
  ['app logs', ['app', 'logs'], commands.appLogsArgv('app', { since: '2h', limit: 50 }, scope)],
  ['volume ls', ['volume', 'ls'], commands.volumeLsArgv('vol', 'GLM-5.1-FP8', scope)],
  ['volume get', ['volume', 'get'], commands.volumeGetArgv('vol', 'a/b.json', '/tmp/b.json', scope)],
  ['volume rm', ['volume', 'rm'], commands.volumeRmArgv('vol', 'deepgemm/B200', true, scope)],
  ['volume list', ['volume', 'list'], commands.volumeListArgv(scope)],
  ['secret list', ['secret', 'list'], commands.secretListArgv(scope)],
];

test.each(cases)(
  'modal %s: the subcommand and every flag the adapter passes exist',
  async (_name, sub, argv) => {
    expect(argv.slice(0, sub.length)).toEqual(sub);
    const help = await helpText(sub);
    expect(help).toContain(`Usage: modal ${sub.join(' ')}`);
    for (const flag of flagsOf(argv.slice(sub.length))) {
      expect({ flag, present: new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, 'm').test(help) }).toEqual({
        flag,
        present: true,
      });
    }
  },
  60_000,
);

test('the ops app is deployed untagged; the serving app with the rollout as its tag', () => {
  expect(commands.deployArgv(deployPy, 'app-ops', undefined, scope)).toEqual([
    'deploy',
    deployPy,
    '--name',
    'app-ops',
    '--env',
    'main',
  ]);
  expect(commands.deployArgv(deployPy, 'app', 'r1', {})).toEqual(['deploy', deployPy, '--name', 'app', '--tag', 'r1']);
});

const controlPy = path.join(root, 'modal', 'control.py');
const python = path.join(root, '.venv', 'bin', 'python');

test.each([
  ['spawn', commands.spawnArgv(controlPy, 'app-ops', 'download_model', { force: false }, scope)],
  ['call-status', commands.callStatusArgv(controlPy, 'fc-123', 5)],
  ['cancel', commands.cancelCallArgv(controlPy, 'fc-123')],
] as const)(
  'control.py %s accepts every flag the adapter passes',
  async (sub, argv) => {
    expect(argv.slice(0, 2)).toEqual([controlPy, sub]);
    const { stdout } = await execa(python, [controlPy, sub, '--help'], { timeout: 60_000 });
    for (const flag of flagsOf([...argv])) expect(stdout).toContain(flag);
  },
  60_000,
);

test('rollback refuses a version without the v prefix in the builder', () => {
  expect(commands.appRollbackArgv('app', 3, {})).toEqual(['app', 'rollback', 'app', 'v3']);
  expect(() => commands.appRollbackArgv('app', 0, {})).toThrow('positive integer');
});
