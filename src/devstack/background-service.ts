import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { terminateProcessGroup } from '../process/process-identity';
import { isOurProcess } from './process-control';

/** What the dev stack remembers about one process it started, so `down` stops exactly that process. */
export interface ServiceRecord {
  name: string;
  pid: number;
  /** Fragments of the command line that prove a pid is still ours (pids get recycled). */
  fragments: string[];
  logFile: string;
  startedAt: string;
  info: Record<string, string | number>;
}

/** Folder of service records and logs for the dev stack, in a glm-ops state folder (Config.stateDir). */
export function devDir(stateDir: string): string {
  return path.join(stateDir, 'dev');
}

function recordFile(name: string, stateDir: string): string {
  return path.join(devDir(stateDir), `${name}.json`);
}

/** The record of a running service, or undefined when it is absent or its pid is no longer ours (stale records are removed). */
export function runningService(name: string, stateDir: string): ServiceRecord | undefined {
  const file = recordFile(name, stateDir);
  if (!fs.existsSync(file)) return undefined;
  const record = JSON.parse(fs.readFileSync(file, 'utf8')) as ServiceRecord;
  if (isOurProcess(record.pid, record.fragments)) return record;
  fs.rmSync(file, { force: true });
  return undefined;
}

/** Persists a service record. */
export function saveService(record: ServiceRecord, stateDir: string): void {
  fs.mkdirSync(devDir(stateDir), { recursive: true });
  fs.writeFileSync(recordFile(record.name, stateDir), JSON.stringify(record, null, 2));
}

/** Starts a command detached in its own process group with output to a log file; returns its pid. */
export function spawnDetached(
  command: string,
  args: string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv },
): number {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env: options.env ?? process.env });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.unref();
  return child.pid;
}

/** Stops a recorded service by pid (SIGTERM, then SIGKILL) and forgets it; only processes we started are signalled. */
export async function stopService(name: string, stateDir: string): Promise<'stopped' | 'not running'> {
  const record = runningService(name, stateDir);
  fs.rmSync(recordFile(name, stateDir), { force: true });
  if (!record) return 'not running';
  await terminateProcessGroup(record.pid, 10_000);
  return 'stopped';
}
