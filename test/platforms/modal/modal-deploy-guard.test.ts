import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEPLOY_LOCK_ENV, DeployGuard } from '../../../src/platforms/modal/modal-deploy-guard';

/** One `modal deploy` per app at a time: across attempts in one worker, across workers, and after a worker died. */
describe('DeployGuard', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-deploy-guard-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

  test('two guards on one lock folder (two workers) never run a deploy of one app at the same time', async () => {
    const events: string[] = [];
    const body = (name: string) => async () => {
      events.push(`${name} start`);
      await tick();
      await tick();
      events.push(`${name} end`);
      return name;
    };
    const first = new DeployGuard(dir, { pollMs: 10, staleAfterMs: 60_000 });
    const second = new DeployGuard(dir, { pollMs: 10, staleAfterMs: 60_000 });
    const results = await Promise.all([
      first.exclusive('app.glm', body('a')),
      second.exclusive('app.glm', body('b')),
      first.exclusive('app.glm', body('c')),
      first.exclusive('app.other', body('other')),
    ]);
    expect(results).toEqual(['a', 'b', 'c', 'other']);
    const glm = events.filter((event) => !event.startsWith('other'));
    for (let i = 0; i < glm.length; i += 2) {
      expect(glm[i]?.replace(' start', '')).toBe(glm[i + 1]?.replace(' end', ''));
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a deploy child left running by a killed worker is waited for; a dead one is not', async () => {
    const marker = 'marker-of-a-killed-worker';
    const orphan = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setTimeout(() => {}, 1500)'], {
      env: { ...process.env, [DEPLOY_LOCK_ENV]: marker },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => orphan.once('exit', () => resolve()));
    // Until the child has exec'd, its environ is still ours (no marker): wait for it to run, as a real deploy child has.
    await new Promise<void>((resolve) => orphan.stdout?.once('data', () => resolve()));
    // The lock a worker wrote before it was SIGKILLed: its own pid is gone, its `modal deploy` child lives on.
    fs.writeFileSync(
      path.join(dir, 'app.glm.lock.json'),
      JSON.stringify({ marker, ownerPid: 2 ** 22 + 1, ownerStartTicks: '1', childPid: orphan.pid, startedAt: 'x' }),
    );
    const guard = new DeployGuard(dir, { pollMs: 20, staleAfterMs: 60_000 });
    let orphanGoneAtStart: boolean | undefined;
    await guard.exclusive('app.glm', async () => {
      orphanGoneAtStart = !isRunning(orphan.pid!);
    });
    await exited;
    expect(orphanGoneAtStart).toBe(true);

    // The same lock naming a child that is gone (or a recycled pid without the marker) is stale: taken at once.
    fs.writeFileSync(
      path.join(dir, 'app.glm.lock.json'),
      JSON.stringify({ marker, ownerPid: 2 ** 22 + 1, ownerStartTicks: '1', childPid: process.pid, startedAt: 'x' }),
    );
    await expect(guard.exclusive('app.glm', async () => 'ran')).resolves.toBe('ran');
  });

  test('the lease puts the marker into the child environment and records the child pid for other processes', async () => {
    const guard = new DeployGuard(dir, { staleAfterMs: 60_000 });
    await guard.exclusive('app.glm', async (lease) => {
      expect(Object.keys(lease.env)).toEqual([DEPLOY_LOCK_ENV]);
      lease.onSpawn(4242);
      const lock = JSON.parse(fs.readFileSync(path.join(dir, 'app.glm.lock.json'), 'utf8'));
      expect(lock).toMatchObject({ marker: lease.env[DEPLOY_LOCK_ENV], ownerPid: process.pid, childPid: 4242 });
    });
  });
});

/**
 * Whether the process runs: it exited once it is a zombie or gone. Node's own `exitCode` may lag behind (it is set when
 * this event loop reaps the child), so the test reads the kernel's view, as the guard does.
 */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
