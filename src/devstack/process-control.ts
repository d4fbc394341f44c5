import * as fs from 'node:fs';

/** True when a process with this pid is running (exists, and is not a zombie awaiting its reaper). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** The process's command line from /proc, or undefined when it is gone; guards against recycled pids. */
export function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** True when the pid is alive and its command line contains every fragment (so it is the process we started). */
export function isOurProcess(pid: number, fragments: string[]): boolean {
  if (!isAlive(pid)) return false;
  const cmd = commandLine(pid);
  if (cmd === undefined) return isAlive(pid);
  return fragments.every((f) => cmd.includes(f));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends SIGTERM to the process group (or the pid), waits up to graceMs, then SIGKILL; resolves when it is gone. */
export async function terminate(pid: number, graceMs = 5000): Promise<'exited' | 'killed' | 'absent'> {
  if (!isAlive(pid)) return 'absent';
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'exited';
    await sleep(50);
  }
  signal('SIGKILL');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
  return 'killed';
}

/** A zombie has exited but not been reaped by its parent; for our purposes it is gone. */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
