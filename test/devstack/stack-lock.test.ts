import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { stackLockFile, withStackLock } from '../../src/devstack/stack-lock';
import { waitForExit } from '../../src/process/process-identity';
import { tsSourceCommand } from '../helpers/ts-source';
import { waitFor } from '../helpers/wait-for';

/** A process holding the lock (it prints `locked` once it has it) until its stdin closes or it is killed. */
async function holder(stateDir: string): Promise<{ child: ChildProcess; output: () => string }> {
  const [node, ...args] = tsSourceCommand(path.join(__dirname, '..', 'helpers', 'stack-lock-child.ts'));
  const child = spawn(node!, [...args, stateDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => output.includes('locked'), { what: 'the child holds the lock', timeoutMs: 60_000 });
  return { child, output: () => output };
}

describe('the dev stack lock (an O_EXCL file with pid and start time in the state folder)', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-lock-'));
  });
  afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it('makes a second process wait for the holder, names it, and runs once the holder lets go', async () => {
    const { child, output } = await holder(stateDir);
    const waits: string[] = [];
    const order: string[] = [];
    const second = withStackLock(stateDir, async () => void order.push('second ran'), {
      onWait: (line) => waits.push(line),
      pollMs: 20,
    });
    await waitFor(() => waits.length > 0, { what: 'the second process is told it waits' });
    expect(waits).toEqual([expect.stringContaining(`waiting for pid ${child.pid}`)]);
    expect(order).toEqual([]);
    order.push('holder released');
    child.stdin!.end();
    await second;
    expect(order).toEqual(['holder released', 'second ran']);
    await waitFor(() => output().includes('released'), { what: 'the holder says it released' });
    expect(fs.existsSync(stackLockFile(stateDir))).toBe(false);
  }, 90_000);

  it('takes over the lock of a holder that was SIGKILLed (its pid is gone), and removes it afterwards', async () => {
    const { child } = await holder(stateDir);
    child.kill('SIGKILL');
    await waitForExit(child.pid!, 30_000);
    expect(fs.existsSync(stackLockFile(stateDir))).toBe(true);
    let ran = false;
    await withStackLock(stateDir, async () => {
      ran = true;
      expect(JSON.parse(fs.readFileSync(stackLockFile(stateDir), 'utf8')).pid).toBe(process.pid);
    });
    expect(ran).toBe(true);
    expect(fs.existsSync(stackLockFile(stateDir))).toBe(false);
  }, 90_000);

  it('takes over a lock naming a live pid with another start time (a recycled pid: its owner is gone)', async () => {
    // Our own pid with a start time that is not ours: the owner it names is gone, so the lock is stale.
    fs.mkdirSync(path.dirname(stackLockFile(stateDir)), { recursive: true });
    fs.writeFileSync(
      stackLockFile(stateDir),
      JSON.stringify({ pid: process.pid, startTicks: '1', token: 'old', since: '2026-01-01T00:00:00Z' }),
    );
    await expect(withStackLock(stateDir, async () => 'ran', { timeoutMs: 10_000 })).resolves.toBe('ran');
  });

  it('serializes two callers of one process: the second starts after the first ended', async () => {
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = withStackLock(stateDir, async () => {
      order.push('first start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first end');
    });
    await waitFor(() => order.length === 1, { what: 'the first caller holds the lock' });
    const second = withStackLock(stateDir, async () => void order.push('second'), { pollMs: 20 });
    await new Promise((resolve) => setImmediate(resolve));
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'first end', 'second']);
  });
});
