import * as fs from 'node:fs';
import { isProcessAlive } from '../process/process-identity';

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
  if (!isProcessAlive(pid)) return false;
  const cmd = commandLine(pid);
  if (cmd === undefined) return isProcessAlive(pid);
  return fragments.every((f) => cmd.includes(f));
}
