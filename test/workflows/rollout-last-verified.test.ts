import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { probeHealth } from '../../src/probes/health-probe';
import { ErrorType } from '../../src/shared/errors';
import type { RolloutStatus } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { status } from '../../src/shared/rollout-messages';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testId, withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(300_000);

/**
 * `temporal workflow terminate` mid-health leaves the new, unverified version routed (issue 14, item 4). The next
 * rollout's way back must be the last version the platform saw verified, not the one routed when it deployed.
 */
describe('rollout: the way back is the last verified version, across a terminated rollout', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('terminate while health polls v2; the next rollout fails and compensates to v1, not v2', async () => {
    const app = testId('verified');
    const failure = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const workflowId = `rollout/${app}`;
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId,
        args: [{ spec: stack.specFor(app), rolloutId: 'r-v1' }],
      });
      expect((await stack.platform.lastVerified(app))?.version).toBe(1);

      // v2's /health never passes (a wedged scheduler): the rollout sits in its health wait until terminated.
      const wedged = stack.specFor(app, (s) => {
        s.local.emulator = { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] };
      });
      const v2 = await client.workflow.start(rollout, {
        taskQueue,
        workflowId,
        args: [{ spec: wedged, rolloutId: 'r-v2' }],
      });
      await waitFor(async () => (await v2.query(status)).phase === 'health', {
        what: 'the rollout of v2 reaches its health wait',
        timeoutMs: 120_000,
      });
      await v2.terminate('operator terminated the rollout mid-health');
      expect((await stack.platform.currentDeployment(app))?.version).toBe(2);
      expect((await stack.platform.lastVerified(app))?.version).toBe(1);

      const failing = stack.specFor(app, (s) => {
        s.local.emulator = { faults: [{ kind: 'http-error', firstRequests: 50, status: 500 }] };
      });
      const err: unknown = await client.workflow
        .execute(rollout, { taskQueue, workflowId, args: [{ spec: failing, rolloutId: 'r-v3' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      return (err as WorkflowFailedError).cause as ApplicationFailure;
    });
    expect(failure.type).toBe(ErrorType.WarmupFailed);
    const report = (failure.details?.[0] as { status: RolloutStatus }).status;
    expect(report).toMatchObject({ previousVersion: 2, deployedVersion: 3, phase: 'failed' });
    expect(report.phases.find((p) => p.name === 'deploy')?.detail).toBe('v3 (previous v2, way back v1: last verified)');
    expect(report.compensations).toEqual([
      expect.objectContaining({ step: 'roll back to v1 and verify it is healthy', outcome: 'done' }),
    ]);
    expect((await stack.platform.currentDeployment(app))?.version).toBe(1);
    expect((await stack.platform.lastVerified(app))?.version).toBe(1);
    const { url } = await stack.platform.endpoint(app);
    expect((await probeHealth({ baseUrl: url, apiKey: stack.apiKey, timeoutMs: 10_000 })).outcome).toBe('ok');
  });
});
