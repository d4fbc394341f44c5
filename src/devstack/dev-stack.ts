import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config/config';
import { cliEntry } from '../config/paths';
import { secretSource } from '../config/secrets';
import { writeFixtureCheckpoint } from '../hub/fixture-checkpoint';
import { HUB_MANIFEST_FILE } from '../hub/fixture-checkpoint';
import { startPlatform, stopPlatform, type PlatformUpResult } from '../platforms/local/daemon-lifecycle';
import { isProcessAlive, processEnvironment } from '../process/process-identity';
import { LOCAL_TASK_QUEUE, MODAL_TASK_QUEUE } from '../shared/task-queue';
import {
  devDir,
  recordedService,
  recordedServiceNames,
  runningService,
  saveService,
  spawnDetached,
  startIdentity,
  stopService,
  type ServiceRecord,
} from './background-service';
import { startDevServer, waitForFrontend } from './dev-server';
import { PortTakenError, portHolder } from './port-holder';
import { withStackLock } from './stack-lock';
import { isPortFree, preferredOrFreePort } from '../net/free-port';

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

/** What to run when a recorded port is taken, so the message carries the way out. */
const FORGET_FIX =
  'stop that program and run the command again, or run `glm-ops dev down` (stops the workers and forgets the recorded ports; workflows stay in the SQLite file)';

/** Refuses to move a service whose clients were told its port: names the program that holds it now. */
function portTaken(port: number, purpose: string): never {
  throw new PortTakenError(port, portHolder(port), purpose, FORGET_FIX);
}

/**
 * Starts the Temporal dev server with on-disk SQLite, or reports the running one. A server that died comes back on its
 * recorded port, where the worker and the CLI keep connecting (the SQLite file keeps its workflows); when another
 * program holds that port, start-up fails naming it, instead of moving the server away from its clients.
 */
async function ensureTemporal(report: StackReporter, config: Config): Promise<ServiceRecord> {
  const running = runningService('temporal', config.stateDir);
  if (running) {
    report(`Temporal dev server already running (pid ${running.pid}) at ${running.info.address}`);
    return running;
  }
  const dbFile = path.join(devDir(config.stateDir), 'temporal.db');
  const logFile = path.join(devDir(config.stateDir), 'temporal.log');
  const recorded = recordedService('temporal', config.stateDir);
  const recordedPort = recorded ? Number(recorded.info.port ?? portOf(String(recorded.info.address))) : undefined;
  const purpose = `(recorded for the Temporal dev server: the worker and the CLI connect to 127.0.0.1:${recordedPort})`;
  if (recordedPort !== undefined) {
    if (!(await isReleased(recordedPort))) portTaken(recordedPort, purpose);
    report(
      `Temporal dev server (pid ${recorded?.pid}) is not running: restarting it on its recorded port ${recordedPort}`,
    );
  }
  const server = await startDevServer({
    dbFile,
    preferredPort: recordedPort ?? config.devStack.temporalPort,
    preferredUiPort: recorded?.info.uiPort ? Number(recorded.info.uiPort) : config.devStack.temporalUiPort,
    ...(recordedPort !== undefined ? { onPortTaken: (port: number) => portTaken(port, purpose) } : {}),
    headless: false,
    logFile,
    detached: true,
  });
  for (const note of server.portNotes) report(note);
  const record: ServiceRecord = {
    name: 'temporal',
    ...startIdentity(server.pid),
    fragments: [...TEMPORAL_FRAGMENTS, dbFile],
    logFile,
    info: {
      address: server.address,
      port: server.port,
      uiUrl: server.uiUrl ?? '',
      ...(server.uiPort ? { uiPort: server.uiPort } : {}),
      dbFile,
    },
  };
  saveService(record, config.stateDir);
  report(`Temporal dev server started (pid ${server.pid}) at ${server.address}, SQLite ${dbFile}`);
  return record;
}

/**
 * True when the port is free, or becomes free while nobody listens on it: a SIGKILLed server's leader thread is a
 * zombie (so "gone") a moment before its other threads close its sockets.
 */
async function isReleased(port: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!(await isPortFree(port))) {
    if (portHolder(port) || Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/**
 * Why a running worker must be replaced: it was started against another Temporal address or hub than the stack's
 * current ones (read from its own environment), so it would poll or download from a dead address forever.
 */
function staleTarget(worker: ServiceRecord, temporalAddress: string, hubUrl: string | undefined): string | undefined {
  const env = processEnvironment(worker.pid);
  const address = env.get('TEMPORAL_ADDRESS');
  if (address !== undefined && address !== temporalAddress) {
    return `it connects to Temporal at ${address}, which now listens at ${temporalAddress}`;
  }
  const hub = env.get('HF_ENDPOINT');
  if (hubUrl !== undefined && hub !== undefined && hub !== hubUrl) {
    return `it downloads from the hub at ${hub}, which now serves at ${hubUrl}`;
  }
  return undefined;
}

/**
 * Starts a background worker on the task queue, or reports the running one; waits until it polls. A running worker
 * wired to a Temporal address or hub the stack no longer uses is stopped and started again against the current ones.
 */
async function ensureWorker(
  temporalRecord: ServiceRecord,
  report: StackReporter,
  config: Config,
  options: { taskQueue?: string; hubUrl?: string } = {},
): Promise<ServiceRecord> {
  const taskQueue = options.taskQueue ?? LOCAL_TASK_QUEUE;
  const name = taskQueue === LOCAL_TASK_QUEUE ? 'worker' : `worker-${taskQueue}`;
  const address = String(temporalRecord.info.address);
  const running = runningService(name, config.stateDir);
  if (running) {
    const stale = staleTarget(running, address, options.hubUrl);
    if (!stale) {
      report(`worker already running (pid ${running.pid}) on task queue ${running.info.taskQueue}`);
      return running;
    }
    report(`worker (pid ${running.pid}) restarts: ${stale}`);
    await stopService(name, config.stateDir);
  }
  const logFile = path.join(devDir(config.stateDir), `${name}.log`);
  const entry = cliEntry();
  const pid = spawnDetached(process.execPath, [entry, 'worker', '--task-queue', taskQueue], {
    logFile,
    env: {
      ...config.env,
      TEMPORAL_ADDRESS: address,
      ...(options.hubUrl ? { HF_ENDPOINT: options.hubUrl } : {}),
    },
  });
  const record: ServiceRecord = {
    name,
    ...startIdentity(pid),
    fragments: [entry, 'worker', taskQueue],
    logFile,
    info: { taskQueue, temporalAddress: address, ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}) },
  };
  saveService(record, config.stateDir);
  await waitForPoller(address, taskQueue, pid, logFile);
  report(`worker started (pid ${pid}) on task queue ${taskQueue}, log ${logFile}`);
  return record;
}

/**
 * Writes the fixture checkpoint (once) and serves it as the local Hugging Face–compatible hub. A hub that died comes
 * back on its recorded port: the worker and the platform daemon were started with its URL.
 */
async function ensureHub(report: StackReporter, config: Config): Promise<ServiceRecord> {
  const running = runningService('hub', config.stateDir);
  if (running) {
    report(`hub already running (pid ${running.pid}) at ${running.info.url}`);
    return running;
  }
  const fixtureDir = path.join(config.stateDir, 'hub', 'fixture');
  if (!fs.existsSync(path.join(fixtureDir, HUB_MANIFEST_FILE))) {
    report(`writing the fixture checkpoint (safetensors shards + index, config, tokenizer) to ${fixtureDir}`);
    await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB: config.devStack.fixtureSizeMB });
  }
  const logFile = path.join(devDir(config.stateDir), 'hub.log');
  const entry = cliEntry();
  const recorded = recordedService('hub', config.stateDir);
  let port: number;
  if (recorded) {
    port = Number(recorded.info.port ?? portOf(String(recorded.info.url)));
    if (!(await isReleased(port))) {
      portTaken(
        port,
        `(recorded for the fixture hub: the worker and the platform daemon download from ${recorded.info.url})`,
      );
    }
    report(`hub (pid ${recorded.pid}) is not running: restarting it on its recorded port ${port}`);
  } else {
    port = (await preferredOrFreePort(config.devStack.hubPort)).port;
  }
  const url = `http://127.0.0.1:${port}`;
  const pid = spawnDetached(
    process.execPath,
    [entry, 'hub', 'serve', '--fixture', fixtureDir, '--port', String(port)],
    {
      logFile,
      env: config.env,
    },
  );
  const record: ServiceRecord = {
    name: 'hub',
    ...startIdentity(pid),
    fragments: [entry, 'hub', 'serve'],
    logFile,
    info: { url, port, fixtureDir },
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

/** Reports the lock wait once, so a second invocation says why it pauses. */
function locked<T>(report: StackReporter, config: Config, fn: () => Promise<T>): Promise<T> {
  return withStackLock(config.stateDir, fn, { onWait: report });
}

/**
 * Brings up what the local platform needs and Temporal does not: the demo's API key secret, the fixture hub and the
 * platform daemon. Used by the embedded stack and in front of a user's Temporal; with `useOwnHub`, an HF_ENDPOINT in
 * the environment is the user's hub and none is started (the embedded stack ignores it: a global HF_ENDPOINT must
 * not turn the demo into a real download).
 */
export function localPlatformUp(
  report: StackReporter,
  config: Config,
  options: { useOwnHub?: boolean } = {},
): Promise<LocalPlatformParts> {
  return locked(report, config, () => localPlatformUpLocked(report, config, options));
}

async function localPlatformUpLocked(
  report: StackReporter,
  config: Config,
  options: { useOwnHub?: boolean },
): Promise<LocalPlatformParts> {
  secretSource(config).ensureLocal(DEMO_API_KEY_SECRET, () => `sk-local-${randomBytes(24).toString('hex')}`);
  const ownHub = options.useOwnHub ? config.hub.endpoint : undefined;
  const hubUrl = ownHub || String((await ensureHub(report, config)).info.url);
  const platform = await startPlatform({ ...config, env: { ...config.env, HF_ENDPOINT: hubUrl } });
  report(
    `${platform.wasAlreadyRunning ? 'platform daemon already running' : 'platform daemon started'} (pid ${platform.status.pid}), state in ${platform.status.stateDir}`,
  );
  return { hubUrl, isHubEmbedded: !ownHub, platform };
}

/**
 * Brings up the embedded stack for the local platform: the demo's API key secret, the fixture hub, the platform
 * daemon, the Temporal dev server (UI, SQLite, search attributes) and a worker wired to all of them. Serialized by the
 * state folder's stack lock: two invocations on a cold stack start one stack.
 */
export function stackUp(report: StackReporter, config: Config): Promise<StackStatus> {
  return locked(report, config, async () => {
    const parts = await localPlatformUpLocked(report, config, {});
    const temporalRecord = await readyTemporal(report, config);
    const worker = await ensureWorker(temporalRecord, report, config, { hubUrl: parts.hubUrl });
    return toStatus(temporalRecord, worker, runningService('hub', config.stateDir));
  });
}

/** The embedded Temporal and a worker for the Modal queue (a Modal spec needs no hub or daemon). */
export function modalStackUp(report: StackReporter, config: Config): Promise<void> {
  return locked(report, config, async () => {
    const temporalRecord = await readyTemporal(report, config);
    await ensureWorker(temporalRecord, report, config, { taskQueue: MODAL_TASK_QUEUE });
  });
}

async function readyTemporal(report: StackReporter, config: Config): Promise<ServiceRecord> {
  const record = await ensureTemporal(report, config);
  await waitForFrontend(String(record.info.address), record.pid, 30_000, record.logFile);
  return record;
}

/** What is running now. */
export function stackStatus(config: Config): StackStatus {
  return toStatus(
    runningService('temporal', config.stateDir),
    runningService('worker', config.stateDir),
    runningService('hub', config.stateDir),
  );
}

/** Where the stack's stopped services will come back (their recorded addresses), for `dev status`. */
export function recordedAddresses(config: Config): { temporal?: string; hub?: string } {
  const temporalRecord = recordedService('temporal', config.stateDir);
  const hub = recordedService('hub', config.stateDir);
  return {
    ...(temporalRecord ? { temporal: String(temporalRecord.info.address) } : {}),
    ...(hub ? { hub: String(hub.info.url) } : {}),
  };
}

/** Stop order: the clients first (workers), then what they use (hub, daemon), the server that holds their history last. */
function stopRank(name: string): number {
  if (name.startsWith('worker')) return 0;
  return name === 'temporal' ? 2 : 1;
}

/**
 * Stops everything `dev up` started (every recorded worker, the hub, the platform daemon and its engines, Temporal),
 * by pid and start time, checks each is gone, and forgets the records (the next `dev up` chooses ports afresh).
 */
export function stackDown(report: StackReporter, config: Config): Promise<void> {
  return locked(report, config, async () => {
    const names = recordedServiceNames(config.stateDir).sort((a, b) => stopRank(a) - stopRank(b));
    for (const name of names.filter((n) => stopRank(n) < 2)) {
      const outcome = await stopService(name, config.stateDir);
      if (name === 'worker' || outcome === 'stopped') report(`${name}: ${outcome}`);
    }
    if (!names.includes('worker')) report('worker: not running');
    report(`platform daemon: ${(await stopPlatform(config)) ? 'stopped' : 'not running'}`);
    report(`temporal: ${await stopService('temporal', config.stateDir)}`);
  });
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
