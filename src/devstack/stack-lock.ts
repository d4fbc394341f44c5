import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { isSameProcess, processStartTicks } from '../process/process-identity';
import { devDir } from './background-service';
import { commandLine } from './process-control';

/** Who holds the stack lock: one process (pid + start time) and a token of its own, so it only removes its own lock. */
const LockOwner = z.object({
  pid: z.number().int().positive(),
  startTicks: z.string().optional(),
  token: z.string(),
  since: z.string(),
});
type LockOwner = z.infer<typeof LockOwner>;

/** Thrown when another glm-ops held the stack lock for longer than the wait; names it. */
export class StackLockTimeoutError extends Error {
  constructor(file: string, owner: LockOwner, waitedMs: number) {
    super(
      `another glm-ops (pid ${owner.pid}: ${commandLine(owner.pid) ?? '?'}) has held the dev stack lock ${file} since ${owner.since}; waited ${Math.round(waitedMs / 1000)} s: let it finish, or stop it`,
    );
    this.name = 'StackLockTimeoutError';
  }
}

export interface StackLockOptions {
  /** How long to wait for another process starting or stopping the stack. */
  timeoutMs?: number;
  pollMs?: number;
  /** Told once when the lock is held by someone else. */
  onWait?: (line: string) => void;
}

/** The lock file that serializes starting and stopping the dev stack of one state folder. */
export function stackLockFile(stateDir: string): string {
  return path.join(devDir(stateDir), 'stack.lock');
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = LockOwner.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** A lock whose file cannot be read for this long was left half-written by a process that died between open and write. */
const UNREADABLE_GRACE_MS = 5_000;

/**
 * Removes a stale lock only if it still is the one judged stale. The check and the removal happen under a second,
 * short-lived lock, so two waiters that both judged the same owner dead cannot remove a fresh lock taken in between.
 */
function removeIfStill(file: string, stale: LockOwner | undefined): void {
  const breaker = `${file}.break`;
  try {
    fs.writeFileSync(breaker, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A breaker is held only for a read and an unlink; an old one was left by a process that died in between.
    if (ageMs(breaker) > UNREADABLE_GRACE_MS) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    const now = readOwner(file);
    if (now?.token === stale?.token) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/**
 * Runs `fn` holding the state folder's stack lock (an O_EXCL file with this process's pid and start time), so two
 * CLI invocations on a cold stack start one stack: the second waits, then finds the first one's services running.
 * A lock whose owner is gone (pid dead or recycled) is taken over.
 */
export async function withStackLock<T>(
  stateDir: string,
  fn: () => Promise<T>,
  options: StackLockOptions = {},
): Promise<T> {
  const file = stackLockFile(stateDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockOwner = {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    token: randomUUID(),
    since: new Date().toISOString(),
  };
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 300_000;
  let isWaitReported = false;
  for (;;) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(file);
    if (owner ? !isSameProcess(owner.pid, owner.startTicks) : ageMs(file) > UNREADABLE_GRACE_MS) {
      removeIfStill(file, owner);
      continue;
    }
    if (owner && Date.now() - started > timeoutMs) throw new StackLockTimeoutError(file, owner, Date.now() - started);
    if (owner && !isWaitReported) {
      isWaitReported = true;
      options.onWait?.(`waiting for pid ${owner.pid} (another glm-ops), which is starting or stopping the dev stack`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
  try {
    return await fn();
  } finally {
    if (readOwner(file)?.token === me.token) fs.rmSync(file, { force: true });
  }
}
