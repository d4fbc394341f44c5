import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createStorageActivities } from '../../src/activities/storage-activities';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import { LocalStorage } from '../../src/platforms/local/local-storage';
import type { KernelCompileResult, StoragePort } from '../../src/platforms/platform';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../src/shared/errors';
import { cliCommand, smallFixture, tempDir, storageSpec } from '../helpers/storage-kit';

let root: string;
let hub: RunningHub;

beforeAll(async () => {
  root = tempDir('activities');
  await smallFixture(path.join(root, 'fixture'), 4, 2);
  hub = await startHub({
    fixtureDir: path.join(root, 'fixture'),
    faults: [{ kind: 'slow', file: '*', bytesPerSec: 2_000_000 }],
  });
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function activitiesIn(name: string, env: NodeJS.ProcessEnv = {}) {
  const storage = new LocalStorage({
    volumesRoot: path.join(root, name),
    hubUrl: hub.url,
    compileCommand: [...cliCommand(), 'emulator-compile'],
    env,
  });
  return createStorageActivities({ platformFor: () => storage, heartbeatIntervalMs: 100 });
}

/** Typed wrapper: MockActivityEnvironment.run loses the activity's result type. */
function run<A, R>(env: MockActivityEnvironment, fn: (input: A) => Promise<R>, input: A): Promise<R> {
  return env.run(fn as never, input as never) as Promise<R>;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ name: 'ApplicationFailure' });
  return err as ApplicationFailure;
}

test('ensureWeights heartbeats progress, then commitVolume makes the weights valid', async () => {
  const activities = activitiesIn('ok');
  const spec = storageSpec();
  const env = new MockActivityEnvironment();
  const beats: Array<{ bytesDone: number; stage: string }> = [];
  env.on('heartbeat', (details: { bytesDone: number; stage: string }) => beats.push(details));
  const result = await run(env, activities.ensureWeights, { spec });
  expect(result.skipped).toBe(false);
  expect(beats.length).toBeGreaterThanOrEqual(3);
  expect(beats.every((beat) => beat.stage === 'download')).toBe(true);
  expect(beats.at(-1)!.bytesDone).toBe(result.status.bytes);
  await run(env, activities.commitVolume, { spec, volume: 'weights' as const });
  expect((await run(env, activities.weightsStatus, { spec })).state).toBe('valid');
});

test('a revision the hub does not know becomes WeightsNotFound (never retried) with repo and revision in details', async () => {
  const activities = activitiesIn('404');
  const spec = storageSpec((s) => (s.model.revision = 'v9.9-missing'));
  const failure = await failureOf(run(new MockActivityEnvironment(), activities.ensureWeights, { spec }));
  expect(failure.type).toBe(ErrorType.WeightsNotFound);
  // The retry profiles decide, from the type: the activity leaves the failure's own flag alone.
  expect(NON_RETRYABLE_ERROR_TYPES).toContain(failure.type);
  expect(failure.nonRetryable).toBe(false);
  expect(failure.message).toContain('v9.9-missing');
  expect(failure.details?.[0]).toMatchObject({ repo: 'zai-org/GLM-5.1-FP8', revision: 'v9.9-missing', status: 404 });
});

test('cancelling ensureWeights stops the download without a sentinel', async () => {
  const activities = activitiesIn('cancel');
  const spec = storageSpec();
  const env = new MockActivityEnvironment();
  const timer = setTimeout(() => env.cancel(), 150);
  const err = await run(env, activities.ensureWeights, { spec }).catch((e: unknown) => e);
  // A cancelled activity reports the SDK's cancellation, so Temporal records it as cancelled, not failed.
  clearTimeout(timer);
  expect(err).toMatchObject({ name: 'CancelledFailure' });
  const status = await run(new MockActivityEnvironment(), activities.weightsStatus, { spec });
  expect(status.state).not.toBe('valid');
});

test('a failing compile becomes CompileFailed; the next compile succeeds and heartbeats', async () => {
  const spec = storageSpec();
  const failing = activitiesIn('compile', { GLM_OPS_EMULATOR_COMPILE_FAIL: '1' });
  const env = new MockActivityEnvironment();
  await run(env, failing.ensureWeights, { spec });
  await run(env, failing.commitVolume, { spec, volume: 'weights' as const });
  const failure = await failureOf(run(env, failing.compileKernels, { spec, rolloutId: 'r1' }));
  expect(failure.type).toBe(ErrorType.CompileFailed);
  expect(NON_RETRYABLE_ERROR_TYPES).not.toContain(failure.type);
  expect(failure.details?.[0]).toMatchObject({ exitCode: expect.any(Number) });
  expect((await run(env, failing.kernelCacheStatus, { spec })).state).toBe('missing');

  const working = activitiesIn('compile');
  const beats: unknown[] = [];
  const env2 = new MockActivityEnvironment();
  env2.on('heartbeat', (details: unknown) => beats.push(details));
  const compiled = await run(env2, working.compileKernels, { spec, rolloutId: 'r2' });
  expect(compiled.status.state).toBe('valid');
  expect(beats.length).toBeGreaterThanOrEqual(1);
  expect(await run(env2, working.invalidateKernels, { spec, onlyIfRolloutId: 'r2' })).toEqual({ removed: true });
});

test('a long step that goes quiet still heartbeats its latest progress (a quiet step is not a lost one)', async () => {
  // A compile whose platform reports one progress, then says nothing while a slow call runs (a marker check or a
  // `modal` call before the remote call starts): without keep-alive beats the server would declare the attempt lost.
  let releaseQuiet!: () => void;
  const quiet = new Promise<void>((resolve) => (releaseQuiet = resolve));
  const storage = {
    compileKernels: async (_spec: unknown, options: Parameters<StoragePort['compileKernels']>[1]) => {
      options.onProgress?.({
        stage: 'compile',
        bytesDone: 0,
        bytesTotal: 0,
        filesDone: 0,
        filesTotal: 0,
        rateBytesPerSec: 0,
        remoteCall: {
          callId: 'fc-quiet',
          function: 'compile_deepgemm',
          app: 'ops',
          spawnedAt: new Date(0).toISOString(),
          inputsHash: 'h',
        },
      });
      await quiet;
      return { skipped: true, status: { state: 'valid' } } as unknown as KernelCompileResult;
    },
  } as unknown as StoragePort;
  const activities = createStorageActivities({ platformFor: () => storage, heartbeatIntervalMs: 100 });
  const env = new MockActivityEnvironment();
  const beats: Array<{ remoteCall?: { callId: string } }> = [];
  env.on('heartbeat', (details: { remoteCall?: { callId: string } }) => {
    beats.push(details);
    // Released by the beats themselves, not by a clock: the step ends once two keep-alives came after the report.
    if (beats.filter((beat) => beat.remoteCall?.callId === 'fc-quiet').length >= 3) releaseQuiet();
  });
  const compiled = await run(env, activities.compileKernels, { spec: storageSpec(), rolloutId: 'r-quiet' });
  expect(compiled.skipped).toBe(true);
  // Every beat carries the remote call, so a retry after a lost worker re-attaches to it.
  expect(beats.slice(-2).every((beat) => beat.remoteCall?.callId === 'fc-quiet')).toBe(true);
}, 60_000);
