import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { builtCliEntry } from '../helpers/built-lib';
import { REPO_ROOT } from '../helpers/repo-files';

/** bin/glm-ops copied into a scratch folder laid out like a fresh clone (bin/ and package.json, no lib/). */
function freshCloneWithoutLib(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-fresh-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.copyFileSync(path.join(REPO_ROOT, 'bin', 'glm-ops'), path.join(dir, 'bin', 'glm-ops'));
  fs.chmodSync(path.join(dir, 'bin', 'glm-ops'), 0o755);
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(dir, 'package.json'));
  return dir;
}

describe('./bin/glm-ops before set-up', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('without lib/: one line saying to run `npm run setup`, exit 2, no stack trace', async () => {
    const dir = freshCloneWithoutLib();
    dirs.push(dir);
    const run = await execa(path.join(dir, 'bin', 'glm-ops'), ['--help'], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`glm-ops: not set up yet (lib/ is not built): run \`npm run setup\` in ${dir}`);
  });

  it('with lib/ but a package missing from node_modules: the same one line, naming the module', async () => {
    const dir = freshCloneWithoutLib();
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'lib', 'cli'), { recursive: true });
    // What the built CLI's first line does; the scratch folder has no node_modules above it.
    fs.writeFileSync(path.join(dir, 'lib', 'cli', 'main.js'), "require('commander');\n");
    const run = await execa(path.join(dir, 'bin', 'glm-ops'), ['--help'], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(
      `glm-ops: not set up yet (Cannot find module 'commander'): run \`npm run setup\` in ${dir}`,
    );
  });

  it('once set up, the same entry runs the CLI', async () => {
    builtCliEntry(); // fails with "run `npm run setup`" on a missing or stale lib/
    const run = await execa(path.join(REPO_ROOT, 'bin', 'glm-ops'), ['--version'], { reject: false });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
