import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import type { Platform } from '../../src/platforms/platform';
import { probeHealth } from '../../src/probes/health-probe';
import { resolveMaintenanceTime, upgradeId, upgradeScheduleOptions } from '../../src/schedules/upgrade-schedule';
import { ErrorType } from '../../src/shared/errors';
import type { UpgradeResult } from '../../src/shared/upgrade-types';
import { rollout, upgrade } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { recordHistory } from '../helpers/record-history';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(240_000);

/** An image tag whose engine dies while loading weights (exit -9, as an OOM does), like a bad SGLang release. */
const BROKEN_IMAGE = 'lmsysorg/sglang:v0.5.11-broken';

describe('upgrade workflow (real Temporal, child rollout, platform daemon, emulator)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  /** The local platform, except that versions running BROKEN_IMAGE get an engine that crashes during load. */
  function platformWithBrokenImage(): Platform {
    const real = stack.platform;
    return new Proxy(real, {
      get(target, property, receiver) {
        if (property === 'deploy') {
          return (spec: Parameters<Platform['deploy']>[0], options: Parameters<Platform['deploy']>[1]) =>
            target.deploy(
              spec.sglang.image === BROKEN_IMAGE
                ? {
                    ...spec,
                    local: {
                      ...spec.local,
                      emulator: {
                        faults: [{ kind: 'crash', at: 'loading', afterMs: 20_000, signal: 'SIGKILL', oom: true }],
                      },
                    },
                  }
                : spec,
              options,
            );
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  const rolloutFirst = async (client: import('@temporalio/client').Client, taskQueue: string, app: string) =>
    client.workflow.execute(rollout, {
      taskQueue,
      workflowId: `rollout/${app}`,
      args: [{ spec: stack.specFor(app), rolloutId: 'r-up-1' }],
    });

  it('image bump: upgrades through a child rollout, no recompile by the upgrade; then a scheduled upgrade runs when triggered', async () => {
    const app = testId('up-image');
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await rolloutFirst(client, taskQueue, app);
      const result: UpgradeResult = await client.workflow.execute(upgrade, {
        taskQueue,
        workflowId: upgradeId(app, '20260101T000000Z'),
        args: [{ app, platform: 'local', request: { sglangImage: 'lmsysorg/sglang:v0.5.11' }, upgradeId: 'u-1' }],
      });
      expect(result).toMatchObject({
        outcome: 'upgraded',
        fromVersion: 1,
        toVersion: 2,
        servingVersion: 2,
        isKernelRecompiled: false,
      });
      expect(result.changes.map((c) => c.path)).toEqual(['sglang.image', 'kernels']);
      await recordHistory(client.workflow.getHandle(upgradeId(app, '20260101T000000Z')), 'upgrade-image-bump');
      expect((await stack.platform.currentDeployment(app))?.spec.sglang.image).toBe('lmsysorg/sglang:v0.5.11');

      const at = resolveMaintenanceTime('2099-12-01T02:00', 'Europe/Berlin');
      const id = upgradeId(app, at.label);
      const input = {
        app,
        platform: 'local' as const,
        request: { sglangImage: 'lmsysorg/sglang:v0.5.12' },
        upgradeId: 'u-2',
      };
      const handle = await client.schedule.create(upgradeScheduleOptions(input, at, { taskQueue, scheduleId: id }));
      try {
        const described = await handle.describe();
        expect(described.spec.timezone).toBe('Europe/Berlin');
        expect(described.spec.calendars?.[0]).toMatchObject({
          year: [{ start: 2099, end: 2099, step: 1 }],
          month: [{ start: 'DECEMBER', end: 'DECEMBER', step: 1 }],
          dayOfMonth: [{ start: 1, end: 1, step: 1 }],
          hour: [{ start: 2, end: 2, step: 1 }],
        });
        expect(described.state.remainingActions).toBe(1);
        expect(described.info.nextActionTimes[0]?.toISOString()).toBe('2099-12-01T01:00:00.000Z');
        await handle.trigger();
        let runId: string | undefined;
        for (let i = 0; i < 100 && !runId; i++) {
          runId = (await handle.describe()).info.recentActions[0]?.action.workflow.firstExecutionRunId;
          if (!runId) await new Promise((r) => setTimeout(r, 100));
        }
        const workflowId = (await handle.describe()).info.recentActions[0]!.action.workflow.workflowId;
        expect(workflowId.startsWith(id)).toBe(true);
        const scheduled: UpgradeResult = await client.workflow.getHandle(workflowId, runId).result();
        expect(scheduled).toMatchObject({ outcome: 'upgraded', fromVersion: 2, toVersion: 3 });
      } finally {
        await handle.delete();
      }
    });
  });

  it('GPU change: recompiles the new GPU’s DeepGEMM cache and lowers mem-fraction (B200 → H200: 0.88 → 0.83)', async () => {
    const app = testId('up-gpu');
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await rolloutFirst(client, taskQueue, app);
      const result: UpgradeResult = await client.workflow.execute(upgrade, {
        taskQueue,
        workflowId: upgradeId(app, 'now'),
        args: [{ app, platform: 'local', request: { gpuType: 'H200' }, upgradeId: 'u-gpu' }],
      });
      expect(result).toMatchObject({ outcome: 'upgraded', toVersion: 2, isKernelRecompiled: true });
      expect(['missing', 'stale']).toContain(result.kernelCacheBefore);
      expect(result.changes).toContainEqual(
        expect.objectContaining({ path: 'sglang.args.mem-fraction-static', from: 0.88, to: 0.83 }),
      );
      const deployed = await stack.platform.currentDeployment(app);
      expect(deployed?.spec.gpu.type).toBe('H200');
      expect(deployed?.spec.sglang.args['mem-fraction-static']).toBe(0.83);
      expect((await stack.platform.kernelCacheStatus(deployed!.spec)).state).toBe('valid');
    });
  });

  it('failing upgrade (the new image’s engine crashes on load): the previous version serves and is healthy; result says rolled back with the diagnosis', async () => {
    const app = testId('up-broken');
    const activities = createActivities({
      platforms: { local: platformWithBrokenImage() },
      resolveSecret: stack.secrets.resolve,
      heartbeatIntervalMs: 200,
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await rolloutFirst(client, taskQueue, app);
      // A rolled-back upgrade fails (the list must not show it as a success); its result rides in the failure.
      const failed: unknown = await client.workflow
        .execute(upgrade, {
          taskQueue,
          workflowId: upgradeId(app, 'broken'),
          args: [{ app, platform: 'local', request: { sglangImage: BROKEN_IMAGE }, upgradeId: 'u-broken' }],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(failed).toBeInstanceOf(WorkflowFailedError);
      const cause = (failed as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe(ErrorType.UpgradeRolledBack);
      const result = cause.details?.[0] as UpgradeResult;
      expect(result.outcome).toBe('rolled-back');
      expect(result.servingVersion).toBe(1);
      await recordHistory(client.workflow.getHandle(upgradeId(app, 'broken')), 'upgrade-rolled-back');
      expect(result.diagnosis?.cause).toBe(ErrorType.EngineCrashed);
      expect(result.diagnosis?.failedPhase).toBe('health');
      expect(result.diagnosis?.compensations).toContainEqual(
        expect.objectContaining({ outcome: 'done', step: expect.stringContaining('v1') }),
      );
      expect(result.diagnosis?.diagnoses.map((d) => d.resolution).join(' ')).toMatch(/mem-fraction-static/);
    });
    const current = await stack.platform.currentDeployment(app);
    expect(current?.version).toBe(1);
    expect(current?.spec.sglang.image).not.toBe(BROKEN_IMAGE);
    const health = await probeHealth({
      baseUrl: (await stack.platform.endpoint(app)).url,
      apiKey: stack.apiKey,
      timeoutMs: 30_000,
    });
    expect(health.outcome).toBe('ok');
  });

  it('an app that was never rolled out: NotFound, nothing deployed, no rollout started', async () => {
    const app = testId('up-none');
    const err = await withWorker(stack.activities, ({ client, taskQueue }) =>
      client.workflow
        .execute(upgrade, {
          taskQueue,
          workflowId: upgradeId(app, 'x'),
          args: [{ app, platform: 'local', request: { sglangImage: 'x:1' }, upgradeId: 'u-x' }],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(cause.type).toBe(ErrorType.NotFound);
    expect(cause.message).toContain('never rolled out');
    expect(await stack.platform.history(app)).toEqual([]);
  });
});
