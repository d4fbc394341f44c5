import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as z from 'zod';
import { isSameProcess, processStartTicks, terminateProcessGroup } from '../process/process-identity';
import { isOurProcess } from './process-control';

/** What the dev stack remembers about one process it started, so `down` stops exactly that process. */
const ServiceRecordSchema = z.object({
  name: z.string().min(1),
  pid: z.number().int().positive(),
  /** Start time of the pid (/proc/PID/stat): with the pid it names one process, so a recycled pid is not ours. */
  startTicks: z.string().optional(),
  /** Fragments of the command line that must also match (records written before startTicks rely on these alone). */
  fragments: z.array(z.string()),
  logFile: z.string(),
  startedAt: z.string(),
  info: z.record(z.string(), z.union([z.string(), z.number()])),
});

/** What the dev stack remembers about one process it started, so `down` stops exactly that process. */
export type ServiceRecord = z.infer<typeof ServiceRecordSchema>;

/** Folder of service records and logs for the dev stack, in a glm-ops state folder (Config.stateDir). */
export function devDir(stateDir: string): string {
  return path.join(stateDir, 'dev');
}

function recordFile(name: string, stateDir: string): string {
  return path.join(devDir(stateDir), `${name}.json`);
}

/**
 * The last record of a service, running or not. A dead service's record is kept on purpose: its port is where its
 * clients (workers, the CLI, the platform daemon) still connect, so the service must come back there.
 */
export function recordedService(name: string, stateDir: string): ServiceRecord | undefined {
  const file = recordFile(name, stateDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON: remove it and run \`glm-ops dev up\` again`);
  }
  const parsed = ServiceRecordSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Every service the stack has a record of (names, in no particular order). */
export function recordedServiceNames(stateDir: string): string[] {
  try {
    return fs
      .readdirSync(devDir(stateDir))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length));
  } catch {
    return [];
  }
}

/** True while the recorded process is the one we started (same pid, same start time, same command line). */
export function isServiceRunning(record: ServiceRecord): boolean {
  if (record.startTicks !== undefined && !isSameProcess(record.pid, record.startTicks)) return false;
  return isOurProcess(record.pid, record.fragments);
}

/** The record of a running service, or undefined when it is absent or its process is gone. */
export function runningService(name: string, stateDir: string): ServiceRecord | undefined {
  const record = recordedService(name, stateDir);
  return record && isServiceRunning(record) ? record : undefined;
}

/** Persists a service record (atomically: a reader never sees half a record). */
export function saveService(record: ServiceRecord, stateDir: string): void {
  fs.mkdirSync(devDir(stateDir), { recursive: true });
  const file = recordFile(record.name, stateDir);
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(record, null, 2));
  fs.renameSync(temp, file);
}

/** The identity to record for a process just started: its start time, read while it certainly lives. */
export function startIdentity(pid: number): Pick<ServiceRecord, 'pid' | 'startTicks' | 'startedAt'> {
  return { pid, startTicks: processStartTicks(pid), startedAt: new Date().toISOString() };
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

/**
 * Stops a recorded service (SIGTERM to its group, then SIGKILL), checks it is gone, and forgets it; only the process
 * we started is signalled. Throws, keeping the record, when it survives.
 */
export async function stopService(name: string, stateDir: string): Promise<'stopped' | 'not running'> {
  const record = runningService(name, stateDir);
  if (!record) {
    fs.rmSync(recordFile(name, stateDir), { force: true });
    return 'not running';
  }
  await terminateProcessGroup(record.pid, 10_000);
  if (isServiceRunning(record)) {
    throw new Error(
      `${name} (pid ${record.pid}) is still alive after SIGKILL; its record stays in ${devDir(stateDir)}`,
    );
  }
  fs.rmSync(recordFile(name, stateDir), { force: true });
  return 'stopped';
}
