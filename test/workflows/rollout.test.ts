import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { SMOKE_TEST_NAMES } from '../../src/probes/smoke-tests';
import { ErrorType } from '../../src/shared/errors';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { recordHistory } from '../helpers/record-history';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

describe('rollout workflow on the local platform (real Temporal, worker, daemon, emulator, hub)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('rolls out from nothing, then re-runs with weights and kernels current, skipping download and compile', async () => {
    const app = testId('happy');
    const spec = stack.specFor(app);
    const { first, second, historyJson } = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const first: RolloutResult = await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-1' }],
      });
      const handle = client.workflow.getHandle(`rollout/${app}`);
      const historyJson = JSON.stringify(await handle.fetchHistory());
      await recordHistory(handle, 'rollout-first-version');
      const second: RolloutResult = await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-2' }],
      });
      await recordHistory(client.workflow.getHandle(`rollout/${app}`), 'rollout-rerun-all-current');
      return { first, second, historyJson };
    });

    expect(first.outcome).toBe('succeeded');
    expect(first.deployedVersion).toBe(1);
    expect(first.previousVersion).toBeUndefined();
    expect(first.phases.map((p) => [p.name, p.state])).toEqual([
      ['validate', 'done'],
      ['weights', 'done'],
      ['kernels', 'done'],
      ['deploy', 'done'],
      ['health', 'done'],
      ['warmup', 'done'],
      ['smoke', 'done'],
    ]);
    expect(first.smoke.map((s) => s.passed)).toEqual(first.smoke.map(() => true));
    expect(first.smoke.length).toBe(SMOKE_TEST_NAMES.length);
    expect(first.phases.find((p) => p.name === 'health')?.detail).toMatch(/^passed on attempt \d+$/);

    expect(second.deployedVersion).toBe(2);
    expect(second.previousVersion).toBe(1);
    expect(second.phases.find((p) => p.name === 'weights')?.state).toBe('skipped');
    expect(second.phases.find((p) => p.name === 'kernels')?.state).toBe('skipped');

    expect(historyJson).not.toContain(stack.apiKey);
    const current = await stack.platform.currentDeployment(app);
    expect(current?.version).toBe(2);
  });

  it('refuses an invalid spec before touching anything (SpecInvalid, no version)', async () => {
    const app = testId('badspec');
    const spec = stack.specFor(app, (s) => {
      s.sglang.args['kv-cache-dtype'] = 'fp8_e4m3';
    });
    const err = await withWorker(stack.activities, ({ client, taskQueue }) =>
      client.workflow
        .execute(rollout, { taskQueue, workflowId: `rollout/${app}`, args: [{ spec, rolloutId: 'r-bad' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(ErrorType.SpecInvalid);
    expect(cause.message).toContain('22359');
    expect(await stack.platform.history(app)).toEqual([]);
  });
});
