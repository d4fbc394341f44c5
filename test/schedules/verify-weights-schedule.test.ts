import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createStorageActivities } from '../../src/activities/storage-activities';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import { LocalStorage } from '../../src/platforms/local/local-storage';
import { verifyWeightsScheduleId } from '../../src/schedules/verify-weights-schedule';
import {
  disableVerifySchedule,
  enableVerifySchedule,
  triggerVerify,
  verifyScheduleStatus,
} from '../../src/schedules/verify-weights-schedules-client';
import { Spec } from '../../src/spec/schema';
import { ErrorType } from '../../src/shared/errors';
import { VERIFY_MEMO_KEY, VERIFY_PHASE, type VerifyWeightsMemo } from '../../src/shared/verify-weights-types';
import { PHASE } from '../../src/shared/search-attributes';
import { cliCommand, smallFixture, storageSpec, tempDir } from '../helpers/storage-kit';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(120_000);

let root: string;
let hub: RunningHub;

beforeAll(async () => {
  root = tempDir('verify-schedule');
  await smallFixture(path.join(root, 'fixture'), 3, 2);
  hub = await startHub({ fixtureDir: path.join(root, 'fixture') });
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('weights.verify is opt-in, and a bad cron or zone is a spec error naming the field', () => {
  const base = storageSpec();
  expect(base.weights).toBeUndefined();
  const parse = (verify: unknown) => Spec.safeParse({ ...base, weights: { verify } });
  expect(parse({ schedule: '0 3 * * SUN' })).toMatchObject({
    success: true,
    data: { weights: { verify: { schedule: '0 3 * * SUN', timezone: 'UTC' } } },
  });
  const badCron = parse({ schedule: '0 3 * *' });
  expect(badCron.success).toBe(false);
  expect(badCron.error?.issues[0]).toMatchObject({ path: ['weights', 'verify', 'schedule'] });
  expect(badCron.error?.issues[0]?.message).toMatch(/five-field cron/);
  const badZone = parse({ schedule: '0 3 * * SUN', timezone: 'Mars/Olympus' });
  expect(badZone.error?.issues[0]).toMatchObject({ path: ['weights', 'verify', 'timezone'] });
});

test('the verify/<app> schedule runs verifyWeights on a real worker: verified, then a corrupt shard fails the run as WeightsCorrupt naming it', async () => {
  const app = testId('verify');
  const spec: Spec = storageSpec((s) => {
    s.app = app;
    s.weights = { verify: { schedule: '0 3 1 1 *', timezone: 'Europe/Berlin' } };
  });
  const storage = new LocalStorage({
    volumesRoot: path.join(root, 'volumes'),
    hubUrl: hub.url,
    compileCommand: [...cliCommand(), 'emulator-compile'],
  });
  await storage.ensureWeights(spec);
  await storage.commitVolume(spec, 'weights');
  const { weightsStatus } = createStorageActivities({ platformFor: () => storage, heartbeatIntervalMs: 200 });

  await withWorker({ weightsStatus }, async ({ client, taskQueue }) => {
    const created = await enableVerifySchedule(client, spec, { taskQueue });
    expect(created).toEqual({ scheduleId: `verify/${app}`, change: 'created' });
    expect((await enableVerifySchedule(client, spec, { taskQueue })).change).toBe('updated');
    try {
      const status = await verifyScheduleStatus(client, app);
      expect(status).toMatchObject({ scheduleId: verifyWeightsScheduleId(app), timeZone: 'Europe/Berlin' });
      expect(status.nextRuns.length).toBeGreaterThan(0);

      const good = await triggerVerify(client, app, { shouldWait: true });
      const fileCount = (await storage.weightsStatus(spec)).fileCount;
      expect(good).toMatchObject({ state: 'verified', detail: `${fileCount} files re-hashed, all match` });

      // Bytes that change under the sentinel: overwrite in place and set the mtime back (the full re-hash reads all).
      const committed = await storage.weightsStatus(spec);
      const shard = fs.readdirSync(committed.path).find((name) => name.endsWith('.safetensors'))!;
      const target = path.join(committed.path, shard);
      const { atime, mtime } = fs.statSync(target);
      const handle = fs.openSync(target, 'r+');
      fs.writeSync(handle, Buffer.from('rot!'), 0, 4, 256);
      fs.closeSync(handle);
      fs.utimesSync(target, atime, mtime);

      const bad = await triggerVerify(client, app, { shouldWait: true });
      expect(bad.state).toBe('corrupt');
      expect(bad.detail).toContain(`1 file(s) no longer match the sentinel's sha256: ${shard}`);
      const run = client.workflow.getHandle(bad.workflowId, bad.runId);
      const failure = await run.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe(ErrorType.WeightsCorrupt);
      expect(cause.nonRetryable).toBe(true);
      expect(cause.details?.[0]).toMatchObject({ app, state: 'corrupt', files: [shard] });
      const described = await run.describe();
      expect(described.typedSearchAttributes.get(PHASE)).toBe(VERIFY_PHASE.failed);
      expect(described.memo?.[VERIFY_MEMO_KEY]).toMatchObject({
        state: 'corrupt',
        badFiles: [shard],
      } satisfies Partial<VerifyWeightsMemo>);
      expect((await verifyScheduleStatus(client, app)).recent.map((r) => r.state)).toEqual(['corrupt', 'verified']);
    } finally {
      await disableVerifySchedule(client, app);
    }
    await expect(verifyScheduleStatus(client, app)).rejects.toMatchObject({ name: 'VerifyNotScheduledError' });
    await expect(disableVerifySchedule(client, app)).rejects.toThrow(/no weights verify is scheduled/);
  });
});
