import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { LocalServingClient } from '../../src/platforms/local/local-serving-client';
import { platformPathsIn } from '../../src/platforms/local/platform-paths';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { keepWarmScheduleId, keepWarmSchedules } from '../../src/schedules/keep-warm-schedule';
import {
  disableKeepWarm,
  enableKeepWarm,
  keepWarmStatus,
  setKeepWarmPaused,
  triggerKeepWarm,
} from '../../src/schedules/keep-warm-schedules-client';
import type { Spec } from '../../src/spec/schema';
import { rollout } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { recordHistory } from '../helpers/record-history';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

/** Scale-to-zero after 2 s idle (the schema's minimum), at a time scale where a cold start takes whole seconds. */
const SCALEDOWN_SEC = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keep-warm schedules (real Temporal schedules, triggered; real platform daemon and emulator)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const specFor = (app: string, patch?: (spec: Spec) => void): Spec =>
    stack.specFor(app, (s) => {
      s.local.timeScale = 0.01;
      s.modal.scaledownWindow = SCALEDOWN_SEC;
      s.keepWarm = { cron: '*/14 6-22 * * MON-FRI', timezone: 'Europe/Berlin', enabled: true, strategy: 'ping' };
      patch?.(s);
    });

  /** Waits until the router has scaled the app to zero engines (a real idle scale-down). */
  async function waitScaledToZero(app: string): Promise<void> {
    const deadline = Date.now() + 90_000; // a hang guard only: on a loaded machine the idle scale-down lags
    for (;;) {
      await sleep(250);
      const status = await new LocalServingClient(platformPathsIn(stack.config.stateDir)).status();
      const entry = status.apps.find((a) => a.app === app);
      if (entry && entry.engines.filter((e) => e.state !== 'exited').length === 0) return;
      if (Date.now() > deadline) throw new Error(`${app} never scaled to zero`);
    }
  }

  it('ping: the schedule reads back with its cron, zone and policies; a trigger right after use is warm, one after scale-to-zero is cold', async () => {
    const app = testId('kw-ping');
    const spec = specFor(app);
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const deployed: RolloutResult = await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-kw-1' }],
      });
      expect(deployed.outcome).toBe('succeeded');
      try {
        expect(await enableKeepWarm(client, spec, { taskQueue })).toEqual([
          { scheduleId: `keepwarm/${app}`, change: 'created' },
        ]);
        const described = await client.schedule.getHandle(keepWarmScheduleId(app)).describe();
        expect(described.spec.timezone).toBe('Europe/Berlin');
        expect(described.spec.calendars?.[0]?.minute).toEqual([{ start: 0, end: 59, step: 14 }]);
        expect(described.spec.calendars?.[0]?.hour).toEqual([{ start: 6, end: 22, step: 1 }]);
        expect(described.spec.calendars?.[0]?.dayOfWeek).toEqual([{ start: 'MONDAY', end: 'FRIDAY', step: 1 }]);
        expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
        expect(described.policies.catchupWindow).toBe(60_000);
        expect(described.info.nextActionTimes.length).toBeGreaterThan(0);
        for (const next of described.info.nextActionTimes) {
          const berlin = new Intl.DateTimeFormat('en-GB', {
            timeZone: 'Europe/Berlin',
            hour: 'numeric',
            hourCycle: 'h23',
            weekday: 'short',
          }).formatToParts(next);
          const hour = Number(berlin.find((p) => p.type === 'hour')?.value);
          expect(hour).toBeGreaterThanOrEqual(6);
          expect(hour).toBeLessThanOrEqual(22);
          expect(['Sat', 'Sun']).not.toContain(berlin.find((p) => p.type === 'weekday')?.value);
        }

        const warm = await triggerKeepWarm(client, app, { shouldWait: true });
        expect(warm.workflowId.startsWith(`keepwarm/${app}`)).toBe(true);
        expect(warm.result?.replica).toBe('warm');

        await waitScaledToZero(app);
        const cold = await triggerKeepWarm(client, app, { shouldWait: true });
        expect(cold.result?.replica).toBe('cold');
        await recordHistory(client.workflow.getHandle(cold.workflowId), 'keep-warm-cold-hit');
        expect(cold.result!.durationMs).toBeGreaterThan(warm.result!.durationMs);

        const status = await keepWarmStatus(client, app);
        expect(status.recent.map((r) => r.state).sort()).toEqual(['cold', 'warm']);
        expect(status.coldHitRate).toBe(0.5);
        expect(status.calendars[0]).toContain('hour 6-22');

        expect(await enableKeepWarm(client, spec, { taskQueue })).toEqual([
          { scheduleId: `keepwarm/${app}`, change: 'updated' },
        ]);
      } finally {
        await disableKeepWarm(client, app).catch(() => undefined);
      }
      await expect(client.schedule.getHandle(keepWarmScheduleId(app)).describe()).rejects.toBeInstanceOf(
        ScheduleNotFoundError,
      );
    });
  });

  it('pin: raising min containers keeps the replica warm past the scale-down window; release lets it go cold again', async () => {
    const app = testId('kw-pin');
    const spec = specFor(app, (s) => {
      s.keepWarm.strategy = 'pin';
    });
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-pin-1' }],
      });
      try {
        const outcomes = await enableKeepWarm(client, spec, { taskQueue });
        expect(outcomes.map((o) => o.scheduleId)).toEqual([`keepwarm/${app}`, `keepwarm/${app}/release`]);
        const release = await client.schedule.getHandle(`keepwarm/${app}/release`).describe();
        expect(release.spec.calendars?.[0]?.hour).toEqual([{ start: 23, end: 23, step: 1 }]);

        const pinned = await triggerKeepWarm(client, app, { shouldWait: true });
        expect(pinned.result?.minContainersSet).toBe(1);
        await sleep(SCALEDOWN_SEC * 1000 + 1500);
        const stillWarm = await triggerKeepWarm(client, app, { shouldWait: true });
        expect(stillWarm.result?.replica).toBe('warm');

        const released = await triggerKeepWarm(client, app, {
          scheduleId: `keepwarm/${app}/release`,
          shouldWait: true,
        });
        expect(released.result).toMatchObject({ replica: 'released', minContainersSet: 0 });
        await waitScaledToZero(app);

        // Switching back to ping removes the release schedule.
        const back = await enableKeepWarm(
          client,
          { ...spec, keepWarm: { ...spec.keepWarm, strategy: 'ping' } },
          { taskQueue },
        );
        expect(back).toEqual([
          { scheduleId: `keepwarm/${app}`, change: 'updated' },
          { scheduleId: `keepwarm/${app}/release`, change: 'deleted' },
        ]);
        const cold = await triggerKeepWarm(client, app, { shouldWait: true });
        expect(cold.result?.replica).toBe('cold');
      } finally {
        await disableKeepWarm(client, app).catch(() => undefined);
      }
    });
  });

  it('pause stops runs and unpause resumes them (an every-second interval stands in for the cron)', async () => {
    const app = testId('kw-pause');
    const spec = specFor(app);
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-pause-1' }],
      });
      const [options] = keepWarmSchedules(spec, { taskQueue });
      const handle = await client.schedule.create({ ...options!, spec: { intervals: [{ every: '1 second' }] } });
      try {
        const taken = async () => (await handle.describe()).info.numActionsTaken;
        await waitFor(async () => (await taken()) >= 2);
        await setKeepWarmPaused(client, app, true, 'maintenance: engine swap');
        const described = await handle.describe();
        expect(described.state.paused).toBe(true);
        expect(described.state.note).toBe('maintenance: engine swap');
        const atPause = await taken();
        await sleep(3000);
        expect(await taken()).toBe(atPause);
        await setKeepWarmPaused(client, app, false, 'back on');
        await waitFor(async () => (await taken()) > atPause);
      } finally {
        await handle.delete();
      }
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(200);
  }
}
