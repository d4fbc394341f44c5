import * as fs from 'node:fs';

/** Env var every engine carries: its engine id, so a restarted daemon recognises it (and a recycled pid is not). */
export const ENGINE_ID_ENV = 'GLM_OPS_PLATFORM_ENGINE_ID';
/** Env var every engine carries: the platform state folder that owns it, so leftovers can be found by scanning /proc. */
export const ENGINE_OWNER_ENV = 'GLM_OPS_PLATFORM_OWNER';
/** Env var the daemon carries: its platform state folder, so `up` can tell our daemon from a recycled pid. */
export const DAEMON_OWNER_ENV = 'GLM_OPS_PLATFORM_DAEMON';

/** True when the pid exists and is not a zombie waiting to be reaped. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the parenthesised command name, which may itself hold spaces or parentheses.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/**
 * The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined when it is gone: a
 * pid plus this names one process, so a record of it is not fooled by a recycled pid.
 */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True when the pid is alive and is the process that had this start time (not a recycled pid). */
export function isSameProcess(pid: number, startTicks: string | undefined): boolean {
  return isProcessAlive(pid) && processStartTicks(pid) === startTicks;
}

/** The environment a process started with, from /proc; empty when it is gone or unreadable. */
export function processEnvironment(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  try {
    for (const entry of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } catch {
    // Gone or not ours: an empty environment matches no marker.
  }
  return env;
}

/** True when the pid is alive and carries `name=value` in its environment (so it is the process we started). */
export function hasEnvMarker(pid: number, name: string, value: string): boolean {
  return isProcessAlive(pid) && processEnvironment(pid).get(name) === value;
}

/** Pids of live processes whose environment holds `name=value`: how leftovers of a killed daemon are found. */
export function findProcessesWithMarker(name: string, value: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (processEnvironment(pid).get(name) === value && isProcessAlive(pid)) found.push(pid);
  }
  return found;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Waits until the pid is gone, polling; resolves false at the deadline. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

/**
 * Sends SIGTERM to the process group led by pid, then SIGKILL after graceMs; resolves once it is gone.
 * Engines run in their own group so that SGLang's TP worker children die with them.
 */
export async function terminateProcessGroup(pid: number, graceMs: number): Promise<'exited' | 'killed' | 'absent'> {
  if (!isProcessAlive(pid)) return 'absent';
  signalGroup(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return 'exited';
  signalGroup(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
  return 'killed';
}
