import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { cliEntry } from '../config/paths';
import { LOCAL_TASK_QUEUE } from '../shared/task-queue';
import {
  devDir,
  runningService,
  saveService,
  spawnDetached,
  stopService,
  type ServiceRecord,
} from './background-service';
import { startDevServer, waitForFrontend } from './dev-server';

/** Reports progress lines to the caller (the CLI prints them). */
export type StackReporter = (line: string) => void;

/** What `dev up` started or found running. */
export interface StackStatus {
  temporal?: { pid: number; address: string; uiUrl: string; dbFile: string };
  worker?: { pid: number; taskQueue: string; logFile: string };
}

const TEMPORAL_FRAGMENTS = ['server', 'start-dev'];

/** Starts the Temporal dev server with on-disk SQLite, or reports the running one. */
export async function ensureTemporal(
  report: StackReporter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceRecord> {
  const running = runningService('temporal', env);
  if (running) {
    report(`Temporal dev server already running (pid ${running.pid}) at ${running.info.address}`);
    return running;
  }
  const dbFile = path.join(devDir(env), 'temporal.db');
  const logFile = path.join(devDir(env), 'temporal.log');
  const server = await startDevServer({
    dbFile,
    preferredPort: portFromEnv(env.GLM_OPS_TEMPORAL_PORT, 7233),
    preferredUiPort: portFromEnv(env.GLM_OPS_TEMPORAL_UI_PORT, 8233),
    headless: false,
    logFile,
    detached: true,
  });
  for (const note of server.portNotes) report(note);
  const record: ServiceRecord = {
    name: 'temporal',
    pid: server.pid,
    fragments: [...TEMPORAL_FRAGMENTS, dbFile],
    logFile,
    startedAt: new Date().toISOString(),
    info: { address: server.address, uiUrl: server.uiUrl ?? '', dbFile },
  };
  saveService(record, env);
  report(`Temporal dev server started (pid ${server.pid}) at ${server.address}, SQLite ${dbFile}`);
  return record;
}

function portFromEnv(value: string | undefined, fallback: number): number {
  if (!value?.trim()) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`GLM_OPS_TEMPORAL_PORT/GLM_OPS_TEMPORAL_UI_PORT must be a port number 1-65535, got "${value}"`);
  }
  return port;
}

/** Starts a background worker on the local task queue, or reports the running one; waits until it polls. */
export async function ensureWorker(
  temporalRecord: ServiceRecord,
  report: StackReporter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceRecord> {
  const running = runningService('worker', env);
  if (running) {
    report(`worker already running (pid ${running.pid}) on task queue ${running.info.taskQueue}`);
    return running;
  }
  const logFile = path.join(devDir(env), 'worker.log');
  const entry = cliEntry();
  const pid = spawnDetached(process.execPath, [entry, 'worker', '--task-queue', LOCAL_TASK_QUEUE], {
    logFile,
    env: { ...env, TEMPORAL_ADDRESS: String(temporalRecord.info.address) },
  });
  const record: ServiceRecord = {
    name: 'worker',
    pid,
    fragments: [entry, 'worker'],
    logFile,
    startedAt: new Date().toISOString(),
    info: { taskQueue: LOCAL_TASK_QUEUE },
  };
  saveService(record, env);
  await waitForPoller(String(temporalRecord.info.address), LOCAL_TASK_QUEUE, pid, logFile);
  report(`worker started (pid ${pid}) on task queue ${LOCAL_TASK_QUEUE}, log ${logFile}`);
  return record;
}

/** Waits until a worker polls the task queue, so the first workflow does not sit unclaimed. */
async function waitForPoller(address: string, taskQueue: string, pid: number, logFile: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (pollers.length > 0) return;
      if (!runningPid(pid)) throw new Error(`the worker exited during start-up; see ${logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the worker did not poll ${taskQueue} within 60 s; see ${logFile}`);
  } finally {
    await connection.close();
  }
}

function runningPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Brings up the embedded stack: Temporal dev server (UI, SQLite, search attributes) and a worker. */
export async function stackUp(report: StackReporter, env: NodeJS.ProcessEnv = process.env): Promise<StackStatus> {
  const temporalRecord = await ensureTemporal(report, env);
  await waitForFrontend(String(temporalRecord.info.address), temporalRecord.pid, 30_000, temporalRecord.logFile);
  const worker = await ensureWorker(temporalRecord, report, env);
  return toStatus(temporalRecord, worker);
}

/** What is running now. */
export function stackStatus(env: NodeJS.ProcessEnv = process.env): StackStatus {
  return toStatus(runningService('temporal', env), runningService('worker', env));
}

/** Stops everything `dev up` started, newest first, by pid. */
export async function stackDown(report: StackReporter, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  for (const name of ['worker', 'temporal']) {
    const outcome = await stopService(name, env);
    report(`${name}: ${outcome}`);
  }
}

function toStatus(temporalRecord?: ServiceRecord, worker?: ServiceRecord): StackStatus {
  return {
    temporal: temporalRecord && {
      pid: temporalRecord.pid,
      address: String(temporalRecord.info.address),
      uiUrl: String(temporalRecord.info.uiUrl),
      dbFile: String(temporalRecord.info.dbFile),
    },
    worker: worker && { pid: worker.pid, taskQueue: String(worker.info.taskQueue), logFile: worker.logFile },
  };
}
