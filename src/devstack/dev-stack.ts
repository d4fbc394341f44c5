import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config/config';
import { cliEntry } from '../config/paths';
import { ensureLocalSecret } from '../config/secrets';
import { writeFixtureCheckpoint } from '../hub/fixture-checkpoint';
import { HUB_MANIFEST_FILE } from '../hub/fixture-checkpoint';
import { platformDown, platformUp, type PlatformUpResult } from '../platforms/local/daemon-lifecycle';
import { isProcessAlive } from '../process/process-identity';
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
import { preferredOrFreePort } from '../net/free-port';

/** Reports progress lines to the caller (the CLI prints them). */
export type StackReporter = (line: string) => void;

/** What `dev up` started or found running. */
export interface StackStatus {
  temporal?: { pid: number; address: string; uiUrl: string; dbFile: string };
  worker?: { pid: number; taskQueue: string; logFile: string };
  hub?: { pid: number; url: string; logFile: string };
}

/** The local demo's API key secret name (examples/local-demo.yaml `secrets.apiKey`). */
export const DEMO_API_KEY_SECRET = 'glm-api-key';

const TEMPORAL_FRAGMENTS = ['server', 'start-dev'];

/** Starts the Temporal dev server with on-disk SQLite, or reports the running one. */
export async function ensureTemporal(report: StackReporter, config: Config): Promise<ServiceRecord> {
  const running = runningService('temporal', config.stateDir);
  if (running) {
    report(`Temporal dev server already running (pid ${running.pid}) at ${running.info.address}`);
    return running;
  }
  const dbFile = path.join(devDir(config.stateDir), 'temporal.db');
  const logFile = path.join(devDir(config.stateDir), 'temporal.log');
  const server = await startDevServer({
    dbFile,
    preferredPort: portFromEnv(config.env.GLM_OPS_TEMPORAL_PORT, 7233),
    preferredUiPort: portFromEnv(config.env.GLM_OPS_TEMPORAL_UI_PORT, 8233),
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
  saveService(record, config.stateDir);
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
  config: Config,
  options: { taskQueue?: string; hubUrl?: string } = {},
): Promise<ServiceRecord> {
  const taskQueue = options.taskQueue ?? LOCAL_TASK_QUEUE;
  const name = taskQueue === LOCAL_TASK_QUEUE ? 'worker' : `worker-${taskQueue}`;
  const running = runningService(name, config.stateDir);
  if (running) {
    report(`worker already running (pid ${running.pid}) on task queue ${running.info.taskQueue}`);
    return running;
  }
  const logFile = path.join(devDir(config.stateDir), `${name}.log`);
  const entry = cliEntry();
  const pid = spawnDetached(process.execPath, [entry, 'worker', '--task-queue', taskQueue], {
    logFile,
    env: {
      ...config.env,
      TEMPORAL_ADDRESS: String(temporalRecord.info.address),
      ...(options.hubUrl ? { HF_ENDPOINT: options.hubUrl } : {}),
    },
  });
  const record: ServiceRecord = {
    name,
    pid,
    fragments: [entry, 'worker', taskQueue],
    logFile,
    startedAt: new Date().toISOString(),
    info: { taskQueue },
  };
  saveService(record, config.stateDir);
  await waitForPoller(String(temporalRecord.info.address), taskQueue, pid, logFile);
  report(`worker started (pid ${pid}) on task queue ${taskQueue}, log ${logFile}`);
  return record;
}

/** Writes the fixture checkpoint (once) and serves it as the local Hugging Face–compatible hub. */
export async function ensureHub(report: StackReporter, config: Config): Promise<ServiceRecord> {
  const running = runningService('hub', config.stateDir);
  if (running) {
    report(`hub already running (pid ${running.pid}) at ${running.info.url}`);
    return running;
  }
  const fixtureDir = path.join(config.stateDir, 'hub', 'fixture');
  if (!fs.existsSync(path.join(fixtureDir, HUB_MANIFEST_FILE))) {
    report(`writing the fixture checkpoint (safetensors shards + index, config, tokenizer) to ${fixtureDir}`);
    await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB: Number(config.env.GLM_OPS_FIXTURE_SIZE_MB ?? 200) });
  }
  const logFile = path.join(devDir(config.stateDir), 'hub.log');
  const entry = cliEntry();
  const port = await preferredOrFreePort(8700);
  const url = `http://127.0.0.1:${port.port}`;
  const pid = spawnDetached(
    process.execPath,
    [entry, 'hub', 'serve', '--fixture', fixtureDir, '--port', String(port.port)],
    {
      logFile,
      env: config.env,
    },
  );
  const record: ServiceRecord = {
    name: 'hub',
    pid,
    fragments: [entry, 'hub', 'serve'],
    logFile,
    startedAt: new Date().toISOString(),
    info: { url, fixtureDir },
  };
  saveService(record, config.stateDir);
  await waitForHttp(`${url}/api/models/zai-org/GLM-5.1-FP8/revision/main`, pid, logFile);
  report(`hub started (pid ${pid}) at ${url}, serving the fixture in ${fixtureDir}`);
  return record;
}

/** Waits until a URL answers (any status) or the process dies. */
async function waitForHttp(url: string, pid: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) throw new Error(`${url} never answered: the process exited; see ${logFile}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer within 30 s; see ${logFile}`);
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
      if (!isProcessAlive(pid)) throw new Error(`the worker exited during start-up; see ${logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the worker did not poll ${taskQueue} within 60 s; see ${logFile}`);
  } finally {
    await connection.close();
  }
}

/** What the local platform needs besides Temporal and a worker, and whether this process started it. */
export interface LocalPlatformParts {
  hubUrl: string;
  /** False when HF_ENDPOINT names the user's own hub, which is then used as it is. */
  isHubEmbedded: boolean;
  platform: PlatformUpResult;
}

/**
 * Brings up what the local platform needs and Temporal does not: the demo's API key secret, the fixture hub and the
 * platform daemon. Used by the embedded stack and in front of a user's Temporal; with `useOwnHub`, an HF_ENDPOINT in
 * the environment is the user's hub and none is started (the embedded stack ignores it: a global HF_ENDPOINT must
 * not turn the demo into a real download).
 */
export async function localPlatformUp(
  report: StackReporter,
  config: Config,
  options: { useOwnHub?: boolean } = {},
): Promise<LocalPlatformParts> {
  ensureLocalSecret(DEMO_API_KEY_SECRET, () => `sk-local-${randomBytes(24).toString('hex')}`, config.env);
  const ownHub = options.useOwnHub ? config.hub.endpoint : undefined;
  const hubUrl = ownHub || String((await ensureHub(report, config)).info.url);
  const platform = await platformUp({ ...config.env, HF_ENDPOINT: hubUrl });
  report(
    `${platform.wasAlreadyRunning ? 'platform daemon already running' : 'platform daemon started'} (pid ${platform.status.pid}), state in ${platform.status.stateDir}`,
  );
  return { hubUrl, isHubEmbedded: !ownHub, platform };
}

/**
 * Brings up the embedded stack for the local platform: the demo's API key secret, the fixture hub, the platform
 * daemon, the Temporal dev server (UI, SQLite, search attributes) and a worker wired to all of them.
 */
export async function stackUp(report: StackReporter, config: Config): Promise<StackStatus> {
  const parts = await localPlatformUp(report, config);
  const temporalRecord = await ensureTemporal(report, config);
  await waitForFrontend(String(temporalRecord.info.address), temporalRecord.pid, 30_000, temporalRecord.logFile);
  const worker = await ensureWorker(temporalRecord, report, config, { hubUrl: parts.hubUrl });
  return toStatus(temporalRecord, worker, runningService('hub', config.stateDir));
}

/** What is running now. */
export function stackStatus(config: Config): StackStatus {
  return toStatus(
    runningService('temporal', config.stateDir),
    runningService('worker', config.stateDir),
    runningService('hub', config.stateDir),
  );
}

/** Stops everything `dev up` started (workers, hub, platform daemon and its engines, Temporal), by pid. */
export async function stackDown(report: StackReporter, config: Config): Promise<void> {
  for (const name of ['worker', 'worker-glm-ops-modal', 'hub']) {
    const outcome = await stopService(name, config.stateDir);
    if (name === 'worker' || outcome === 'stopped') report(`${name}: ${outcome}`);
  }
  report(`platform daemon: ${(await platformDown(config.env)) ? 'stopped' : 'not running'}`);
  report(`temporal: ${await stopService('temporal', config.stateDir)}`);
}

function toStatus(temporalRecord?: ServiceRecord, worker?: ServiceRecord, hub?: ServiceRecord): StackStatus {
  return {
    temporal: temporalRecord && {
      pid: temporalRecord.pid,
      address: String(temporalRecord.info.address),
      uiUrl: String(temporalRecord.info.uiUrl),
      dbFile: String(temporalRecord.info.dbFile),
    },
    worker: worker && { pid: worker.pid, taskQueue: String(worker.info.taskQueue), logFile: worker.logFile },
    hub: hub && { pid: hub.pid, url: String(hub.info.url), logFile: hub.logFile },
  };
}
