import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import type { Platform } from '../../src/platforms/platform';
import { ErrorType } from '../../src/shared/errors';
import { status as rolloutStatus } from '../../src/shared/rollout-messages';
import { DEPLOYED_VERSION, GPU_TYPE, SGLANG_IMAGE } from '../../src/shared/search-attributes';
import type { UpgradeResult } from '../../src/shared/upgrade-types';
import { rollout, upgrade } from '../../src/workflows';
import { builtCliEntry } from '../helpers/built-lib';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testId, testTemporalAddress, withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(240_000);

/** An image whose engine dies while loading weights (exit -9 with the OOM line), as in the guide's OOM drill. */
const BROKEN_IMAGE = 'lmsysorg/sglang:v0.5.11-broken';

/**
 * What serves now, said by `status`, `rollback` and the search attributes after the cases of issue 15: a rolled-back
 * upgrade (the OOM drill), an aborted rollout and `rollback --to`. The built CLI against the test Temporal server and
 * a real local platform (daemon, routers, emulator engines).
 */
describe('what serves now: status, rollback and the search attributes read the platform', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const cli = (args: string[], taskQueue: string) =>
    execa(process.execPath, [builtCliEntry(), ...args], {
      env: { ...stack.env, TEMPORAL_ADDRESS: testTemporalAddress(), GLM_OPS_TASK_QUEUE: taskQueue },
      reject: false,
    });

  /** The local platform, except that versions running BROKEN_IMAGE crash with an OOM while loading. */
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

  async function rolloutOnce(client: Client, taskQueue: string, app: string, rolloutId: string): Promise<void> {
    await client.workflow.execute(rollout, {
      taskQueue,
      workflowId: `rollout/${app}`,
      args: [{ spec: stack.specFor(app), rolloutId }],
    });
  }

  async function searchAttributesOf(client: Client, workflowId: string) {
    const attributes = (await client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
    return {
      deployedVersion: attributes.get(DEPLOYED_VERSION),
      sglangImage: attributes.get(SGLANG_IMAGE),
      gpuType: attributes.get(GPU_TYPE),
    };
  }

  it('the OOM upgrade drill: status says v1 serves and v2 was attempted; the failed child and the upgrade index v1', async () => {
    const app = testId('truth-oom');
    const activities = createActivities({
      platforms: { local: platformWithBrokenImage() },
      resolveSecret: stack.secrets.resolve,
      heartbeatIntervalMs: 200,
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await rolloutOnce(client, taskQueue, app, 'r-truth-1');
      const servingImage = stack.specFor(app).sglang.image;
      const upgradeId = `upgrade/${app}/drill`;
      // A rolled-back upgrade fails with UpgradeRolledBack; its result rides in the failure's details.
      const failed: unknown = await client.workflow
        .execute(upgrade, {
          taskQueue,
          workflowId: upgradeId,
          args: [{ app, platform: 'local', request: { sglangImage: BROKEN_IMAGE }, upgradeId: 'u-truth' }],
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
      expect(result.attempted).toEqual({ version: 2, sglangImage: BROKEN_IMAGE, gpuType: 'B200' });

      // The list shows what serves at the end, for the failed child and for the upgrade alike.
      const serving = { deployedVersion: 1, sglangImage: servingImage, gpuType: 'B200' };
      expect(await searchAttributesOf(client, `rollout/${app}`)).toEqual(serving);
      expect(await searchAttributesOf(client, upgradeId)).toEqual(serving);

      const json = await cli(['status', app, '--json'], taskQueue);
      expect(json.stderr).toBe('');
      const report = JSON.parse(json.stdout);
      expect(report).toMatchObject({
        servingVersion: 1,
        lastVerifiedVersion: 1,
        attemptedVersion: 2,
        previousVersion: 1,
        phase: 'failed',
        workflowStatus: 'FAILED',
      });
      expect(report).not.toHaveProperty('deployedVersion');

      const text = await cli(['status', app], taskQueue);
      const lines = text.stdout.split('\n');
      expect(lines[0]).toBe(`${app}: serving v1, last verified v1 (platform local)`);
      expect(text.stdout).toContain('attempted v2 (previous v1): failed, compensated');
      expect(text.stdout).not.toMatch(/deployed v2/);
    });
  });

  it('an aborted rollout: status says v1 serves, v2 was attempted, and the rollout indexes v1', async () => {
    const app = testId('truth-abort');
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await rolloutOnce(client, taskQueue, app, 'r-truth-a1');
      const spec = stack.specFor(app, (s) => {
        s.local.emulator = { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] };
        s.health.startupTimeout = 120;
      });
      const handle = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-truth-a2' }],
      });
      await waitFor(async () => (await handle.query(rolloutStatus)).phase === 'health', { timeoutMs: 120_000 });
      const aborted = await cli(['abort', app, '--reason', 'drill'], taskQueue);
      expect(aborted.exitCode).toBe(0);
      expect(aborted.stderr).toMatch(/aborted: drill/);

      expect(await searchAttributesOf(client, `rollout/${app}`)).toMatchObject({ deployedVersion: 1 });
      const report = JSON.parse((await cli(['status', app, '--json'], taskQueue)).stdout);
      expect(report).toMatchObject({ servingVersion: 1, attemptedVersion: 2, phase: 'aborted' });
      const text = await cli(['status', app], taskQueue);
      expect(text.stdout.split('\n')[0]).toBe(`${app}: serving v1, last verified v1 (platform local)`);
      expect(text.stdout).toContain('attempted v2 (previous v1): aborted, compensated');
    });
  });

  it('rollback --to v1 after v2: status shows v1 serving and the rollback; --to v99 and an unknown app are refused (exit 2)', async () => {
    const app = testId('truth-back');
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await rolloutOnce(client, taskQueue, app, 'r-truth-b1');
      await rolloutOnce(client, taskQueue, app, 'r-truth-b2');

      const wrong = await cli(['rollback', app, '--to', 'v99'], taskQueue);
      expect(wrong.exitCode).toBe(2);
      expect(wrong.stderr.trim()).toBe(
        `glm-ops: app "${app}" has no version 99 (versions: v1, v2): name one of them with --to, or leave --to out to go back to the last verified one`,
      );
      expect(await rollbacksOf(client, app)).toEqual([]);

      const back = await cli(['rollback', app, '--to', 'v1'], taskQueue);
      expect(back.stderr).toBe('');
      expect(back.exitCode).toBe(0);
      expect(back.stdout).toMatch(/rolled back from v2 to v1/);

      const text = await cli(['status', app], taskQueue);
      const lines = text.stdout.split('\n');
      expect(lines[0]).toBe(`${app}: serving v1, last verified v1 (platform local)`);
      expect(text.stdout).toContain('deployed v2 (previous v1)');
      expect(text.stdout).toMatch(/rollback after it: v2 → v1 \(workflow rollback\/.*, COMPLETED\)/);
      const report = JSON.parse((await cli(['status', app, '--json'], taskQueue)).stdout);
      expect(report).toMatchObject({ servingVersion: 1, lastRollback: { fromVersion: 2, toVersion: 1 } });

      const unknown = await cli(['rollback', `${app}-typo`], taskQueue);
      expect(unknown.exitCode).toBe(2);
      expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
      expect(unknown.stderr).toContain(`no app named ${app}-typo was ever deployed on platform local`);
      expect(unknown.stderr).toContain(`did you mean ${app}?`);
      expect(await rollbacksOf(client, `${app}-typo`)).toEqual([]);
    });
  });

  it('rollback of an unknown app on the embedded default starts nothing: no stack, no workflow (exit 2)', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-noapp-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, GLM_OPS_HOME: home };
      for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_API_KEY'])
        delete env[key];
      const run = await execa(process.execPath, [builtCliEntry(), 'rollback', 'no-such-app'], { env, reject: false });
      expect(run.exitCode).toBe(2);
      expect(run.stderr.trim()).toBe(
        'glm-ops: no app named no-such-app was ever deployed on platform local; apps there: none yet: check the name, or roll it out first with `glm-ops rollout SPEC`',
      );
      expect(run.stdout).toBe('');
      expect(fs.readdirSync(home)).toEqual([]);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

/** The rollback workflows started for an app (there must be none after refused input). */
async function rollbacksOf(client: Client, app: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowType = "rollbackApp" AND GlmOpsApp = "${app}"` }))
    ids.push(run.workflowId);
  return ids;
}
