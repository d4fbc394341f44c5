import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasEnvMarker, isProcessAlive } from '../../process/process-identity';

/** Env var on every `modal deploy` child: the lock it belongs to, so a waiter can tell it from a recycled pid. */
export const DEPLOY_LOCK_ENV = 'GLM_OPS_MODAL_DEPLOY_LOCK';

/** The lock file of one app: who deploys it now. */
interface LockFile {
  marker: string;
  ownerPid: number;
  ownerStartTicks: string;
  childPid?: number;
  startedAt: string;
}

/** What a guarded body gets: the env marker for its child, and where to report the child's pid. */
export interface DeployLease {
  env: Record<string, string>;
  onSpawn(pid: number): void;
}

/**
 * One `modal deploy` per app at a time. A deploy that outlived its activity attempt (start-to-close timeout, or a
 * worker killed while its `modal deploy` child went on as an orphan) is waited for, not raced: two concurrent
 * deploys of one app would publish two versions. In-process callers queue on a promise; other processes on this
 * machine (a restarted worker) see a lock file naming the deploying child, recognised by an env marker.
 */
export class DeployGuard {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly options: { pollMs?: number; staleAfterMs: number },
  ) {}

  /** Runs `body` once no other deploy of `key` is in flight here or in another process on this machine. */
  async exclusive<T>(key: string, body: (lease: DeployLease) => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    const file = this.lockFile(key);
    try {
      const lock = await this.acquire(file);
      const lease: DeployLease = {
        env: { [DEPLOY_LOCK_ENV]: lock.marker },
        onSpawn: (pid) => this.writeLock(file, { ...lock, childPid: pid }),
      };
      try {
        return await body(lease);
      } finally {
        fs.rmSync(file, { force: true });
      }
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Waits until no deploy of `key` is in flight (a rollback or stop must not interleave with a deploy). */
  async settle(key: string): Promise<void> {
    await this.exclusive(key, async () => undefined);
  }

  private lockFile(key: string): string {
    return path.join(this.dir, `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.lock.json`);
  }

  private async acquire(file: string): Promise<LockFile> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const lock: LockFile = {
      marker: randomUUID(),
      ownerPid: process.pid,
      ownerStartTicks: startTicks(process.pid),
      startedAt: new Date().toISOString(),
    };
    const deadline = Date.now() + this.options.staleAfterMs;
    for (;;) {
      try {
        fs.writeFileSync(file, JSON.stringify(lock), { flag: 'wx' });
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLock(file);
      // A holder that is gone (or never wrote a readable lock) left a stale file; so does one past any deploy's limit.
      if (!holder || !isHeld(holder) || Date.now() > deadline) {
        fs.rmSync(file, { force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 500));
    }
  }

  private writeLock(file: string, lock: LockFile): void {
    const temp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(temp, JSON.stringify(lock));
    fs.renameSync(temp, file);
  }
}

function readLock(file: string): LockFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockFile;
  } catch {
    return undefined;
  }
}

/** Held while its deploy child runs (an orphan of a killed worker included), or while the process that took it lives. */
function isHeld(lock: LockFile): boolean {
  if (lock.childPid !== undefined && hasEnvMarker(lock.childPid, DEPLOY_LOCK_ENV, lock.marker)) return true;
  return isProcessAlive(lock.ownerPid) && startTicks(lock.ownerPid) === lock.ownerStartTicks;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): a pid plus this names one process. */
function startTicks(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** The guard key of an app's deploys: one lock per app name (the same name in another environment waits a little). */
export function appLockKey(app: string): string {
  return `app.${app}`;
}
