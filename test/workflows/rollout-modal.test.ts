import { defaultPayloadConverter } from '@temporalio/common';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { secretEnvVar } from '../../src/config/secrets';
import { builtCliEntry } from '../helpers/built-lib';
import type { EmulatorHandle } from '../../src/emulator';
import type { StorageProgress } from '../../src/platforms/platform';
import { opsAppName } from '../../src/platforms/modal/deploy-config';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { MODAL_TASK_QUEUE } from '../../src/shared/task-queue';
import { rollout } from '../../src/workflows';
import { abort } from '../../src/shared/rollout-messages';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { planStorage, standinPlatform } from '../helpers/modal-fixtures';
import { exampleSpec } from '../helpers/test-spec';
import { type ModalStandin, startModalStandin } from '../helpers/modal-standin';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';
import { recordHistory } from '../helpers/record-history';
import { testClient, testTemporalAddress } from '../helpers/temporal';

/**
 * A rollout of a `platform: modal` spec end to end: the real Temporal dev server, real worker processes on the Modal
 * task queue (the CLI's `worker` command) whose ModalPlatform runs the real `modal` CLI and SDK against the stand-in
 * control plane, and an SGLang emulator behind the Server's web URL for health, warmup and smoke tests.
 * What cannot run here is Modal itself: its containers, GPUs and image builds (the stand-in plays the control plane;
 * planned function calls stand for the remote download and compile).
 */
jest.setTimeout(900_000);

/** The workflow's heartbeat timeout for downloads (src/workflows/rollout.ts longStorage). */
const HEARTBEAT_TIMEOUT_MS = 20_000;

let standin: ModalStandin;
let emulator: EmulatorHandle;
let home: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-rollout-'));
  [standin, emulator] = await Promise.all([startModalStandin(), startTestEmulator()]);
});
afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await emulator?.close();
  await standin?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

/** A real worker process on the Modal task queue, pointed at the test server and the stand-in. */
function startWorker(logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...standin.env,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    GLM_OPS_HOME: path.join(home, 'state'),
    [secretEnvVar('glm-api-key')]: TEST_API_KEY,
    // The worker's own environment may force colours; the adapter must not care.
    FORCE_COLOR: '1',
  };
  const child = spawn(process.execPath, [builtCliEntry(), 'worker', '--task-queue', MODAL_TASK_QUEUE], {
    env,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  workers.push(child);
  return child;
}

/** The remote download call Temporal holds in ensureWeights' heartbeat details, once it is there. */
async function downloadCallInHeartbeat(handle: WorkflowHandle): Promise<StorageProgress['remoteCall']> {
  const description = await handle.describe();
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'ensureWeights');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<StorageProgress>(payload).remoteCall : undefined;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in time`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** `promise`, or a failure with `describe()` once `ms` have passed (so a hang shows the workers' log). */
async function withDeadline<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface StateApp {
  name: string;
  appId: string;
  state: string;
  versions: Array<{ version: number; tag: string }>;
}

test('download across a worker SIGKILL (one remote call, one deploy), a re-run without a new version, stop → v1', async () => {
  const app = `glm-modal-e2e-${process.pid}`;
  const spec = exampleSpec(app);
  const logFile = path.join(home, 'workers.log');
  const failWith = (err: unknown): never => {
    throw new Error(
      `${String(err)}\nworkers log:\n${fs.readFileSync(logFile, 'utf8').slice(-4000)}\nstand-in log:\n${standin.log().slice(-2000)}`,
    );
  };
  await standin.createSecret(spec.secrets.apiKey, { API_KEY: TEST_API_KEY });
  await standin.control('POST', `/apps/${app}/web-url`, { url: emulator.url });
  // The download outlasts several heartbeat timeouts; the worker is killed early in it.
  await planStorage(standin, spec, { downloadMs: 4 * HEARTBEAT_TIMEOUT_MS, compileMs: 1_000, rolloutId: 'r-modal-1' });

  const { client, connection } = await testClient();
  try {
    const first = startWorker(logFile);
    const handle = await client.workflow.start(rollout, {
      taskQueue: MODAL_TASK_QUEUE,
      workflowId: `rollout/${app}`,
      args: [{ spec, rolloutId: 'r-modal-1' }],
    });
    // Kill once Temporal holds the spawned call's id in ensureWeights' heartbeat details.
    const remoteCall = await until(
      () => downloadCallInHeartbeat(handle),
      240_000,
      'the download call id in the heartbeat details',
    ).catch(failWith);
    expect(remoteCall).toMatchObject({ function: 'download_model', app: opsAppName(app) });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const callsAtKill = await standin.calls();
    expect(callsAtKill.find((call) => call.id === remoteCall.callId)?.state).toBe('running');

    startWorker(logFile);
    const result: RolloutResult = await handle.result().catch(failWith);
    expect(result.outcome).toBe('succeeded');
    expect(result.deployedVersion).toBe(1);
    expect(result.endpoint).toBe(emulator.url);
    expect(result.smoke.length).toBeGreaterThan(0);
    expect(result.smoke.filter((s) => !s.passed)).toEqual([]);

    const calls = await standin.calls();
    const named = (fn: string): string[] =>
      calls.filter((c) => c.app === opsAppName(app) && c.function === fn).map((c) => c.state);
    expect(named('download_model')).toEqual(['succeeded']);
    expect(calls.find((c) => c.function === 'download_model')?.id).toBe(remoteCall.callId);
    expect(named('compile_deepgemm')).toEqual(['succeeded']);

    const history = await handle.fetchHistory();
    const scheduled = (name: string): number =>
      (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
    expect(scheduled('deploy')).toBe(1);
    expect(scheduled('ensureWeights')).toBe(1);
    // Limits fit Modal: a first deploy (images, functions, secret) and a commit get more than two minutes and
    // heartbeat; the health wait covers start-up + the enter hook's warmup + a first image pull; downloads heartbeat.
    const optionsOf = (name: string) =>
      (history.events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name)
        ?.activityTaskScheduledEventAttributes;
    const seconds = (duration: { seconds?: unknown } | null | undefined): number =>
      Number(String(duration?.seconds ?? 0));
    for (const name of ['deploy', 'commitVolume']) {
      expect({ name, startToClose: seconds(optionsOf(name)?.startToCloseTimeout) >= 30 * 60 }).toEqual({
        name,
        startToClose: true,
      });
      expect({ name, heartbeat: seconds(optionsOf(name)?.heartbeatTimeout) > 0 }).toEqual({ name, heartbeat: true });
    }
    expect(seconds(optionsOf('waitForHealth')?.startToCloseTimeout)).toBeGreaterThanOrEqual(
      spec.health.startupTimeout + spec.warmup.timeout + 10 * 60,
    );
    expect(seconds(optionsOf('ensureWeights')?.heartbeatTimeout)).toBe(HEARTBEAT_TIMEOUT_MS / 1000);
    const apps = (await standin.control<{ apps: StateApp[] }>('GET', '/state')).apps;
    expect(apps.find((a) => a.name === app)?.versions.map((v) => [v.version, v.tag])).toEqual([[1, 'r-modal-1']]);
    expect(fs.readFileSync(logFile, 'utf8')).toContain(`the previous attempt ran remote call ${remoteCall.callId}`);
    // Heartbeat details, inputs and results hold call ids and names, never a Modal token or the API key.
    const historyText = JSON.stringify(history);
    for (const secret of [standin.tokenId, standin.tokenSecret, TEST_API_KEY])
      expect(historyText).not.toContain(secret);
    await recordHistory(handle, 'rollout-modal-worker-killed-during-download');

    // Re-run with nothing changed: download_model finds its sentinel and skips; Modal skips the deploy.
    await standin.setPlan('download_model', {
      app: opsAppName(app),
      durationMs: 200,
      result: JSON.stringify({
        skipped: true,
        status: {
          state: 'valid',
          problems: [],
          commit: '0123456789abcdef0123456789abcdef01234567',
          fileCount: 2,
          bytes: 78,
        },
        durationMs: 0,
      }),
    });
    const rerun: RolloutResult = await client.workflow
      .execute(rollout, {
        taskQueue: MODAL_TASK_QUEUE,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-modal-2' }],
      })
      .catch(failWith);
    expect(rerun).toMatchObject({ outcome: 'succeeded', deployedVersion: 1, previousVersion: 1 });
    expect(rerun.phases.find((p) => p.name === 'kernels')?.state).toBe('skipped');
    const afterRerun = (await standin.control<{ apps: StateApp[] }>('GET', '/state')).apps;
    expect(afterRerun.find((a) => a.name === app)?.versions).toHaveLength(1);

    // Stop, then roll out again: Modal makes a new app whose history starts at v1, and v1 is this rollout's.
    const { platform } = standinPlatform(standin, { home: path.join(home, 'state') });
    await platform.stop(app);
    const restarted: RolloutResult = await client.workflow
      .execute(rollout, {
        taskQueue: MODAL_TASK_QUEUE,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-modal-3' }],
      })
      .catch(failWith);
    expect(restarted).toMatchObject({ outcome: 'succeeded', deployedVersion: 1 });
    expect(restarted.previousVersion).toBeUndefined();
    expect(await platform.currentDeployment(app)).toMatchObject({ version: 1, rolloutId: 'r-modal-3' });
    const afterRestart = (await standin.control<{ apps: StateApp[] }>('GET', '/state')).apps.filter(
      (a) => a.name === app,
    );
    expect(afterRestart.map((a) => [a.state, a.versions.map((v) => v.tag)]).sort()).toEqual([
      ['deployed', ['r-modal-3']],
      ['stopped', ['r-modal-1']],
    ]);
  } finally {
    await connection.close();
  }
});

test('an abort during the download cancels the remote call on Modal (a lost worker does not)', async () => {
  const app = `glm-modal-abort-${process.pid}`;
  const spec = exampleSpec(app);
  const logFile = path.join(home, 'abort-workers.log');
  await standin.createSecret(spec.secrets.apiKey, { API_KEY: TEST_API_KEY });
  await planStorage(standin, spec, { downloadMs: 10 * HEARTBEAT_TIMEOUT_MS });
  const { client, connection } = await testClient();
  try {
    startWorker(logFile);
    const handle = await client.workflow.start(rollout, {
      taskQueue: MODAL_TASK_QUEUE,
      workflowId: `rollout/${app}`,
      args: [{ spec, rolloutId: 'r-modal-abort' }],
    });
    const remoteCall = await until(
      () => downloadCallInHeartbeat(handle),
      240_000,
      'the download call id in the heartbeat details',
    );
    await handle.executeUpdate(abort, { args: [{ reason: 'wrong revision' }] });
    const failure = await withDeadline(
      handle.result().then(
        () => undefined,
        (err: unknown) => err,
      ),
      300_000,
      () => `the aborted rollout did not end; workers log:\n${fs.readFileSync(logFile, 'utf8').slice(-4000)}`,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toContain('aborted: wrong revision');
    const call = await until(
      async () => (await standin.calls()).find((c) => c.id === remoteCall.callId && c.state !== 'running'),
      120_000,
      'the download call ended',
    );
    expect(call.state).toBe('cancelled');
    await recordHistory(handle, 'rollout-modal-abort-during-download');
  } finally {
    await connection.close();
  }
});
