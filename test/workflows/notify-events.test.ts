import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../src/shared/errors';
import type { DeliverNotificationInput, NotifyEvent } from '../../src/shared/notify-types';
import { abort } from '../../src/shared/rollout-messages';
import { rollout } from '../../src/workflows';
import { deploymentSummary, failure, Gate, SagaFakes } from '../helpers/saga-fakes';
import { testId, withWorker } from '../helpers/temporal';
import { testSpec } from '../helpers/test-spec';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(60_000);

/**
 * The events a rollout's saga branches end with, on the real dev server with typed fake activities: the notify
 * children run on the same worker, and the fake delivery records what each webhook would have been POSTed.
 */

function notifyingSpec() {
  return testSpec(testId('notify-saga'), (s) => {
    s.notify = [
      { format: 'json', urlSecret: 'hook', events: ['started', 'failed', 'rolled-back', 'compensation-failed'] },
    ];
  });
}

/** The fake delivery's POSTs: which events, in which order they were delivered (children run concurrently). */
function deliveredEvents(fakes: SagaFakes): NotifyEvent[] {
  return fakes.inputsOf('deliverNotification').map((input) => (input as DeliverNotificationInput).message.event);
}

const deliverNotification = async () => ({ status: 200, attempt: 1 });

describe('rollout notifications per saga branch (typed fakes)', () => {
  it('a compensation that fails: failed (with the step’s own cause), then compensation-failed naming what is left to do; no rolled-back', async () => {
    const fakes = new SagaFakes({
      deliverNotification,
      async smokeTest() {
        throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
      },
      async rollbackTo({ version }) {
        throw failure(ErrorType.NotFound, `v${version} is gone`);
      },
    });
    const spec = notifyingSpec();
    const err = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const err = await client.workflow
        .execute(rollout, { taskQueue, workflowId: `rollout/${spec.app}`, args: [{ spec, rolloutId: 'r-cf' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await waitFor(() => fakes.inputsOf('deliverNotification').length === 3, { what: 'three events delivered' });
      return err;
    });
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe(ErrorType.CompensationFailed);
    expect(deliveredEvents(fakes).sort()).toEqual(['compensation-failed', 'failed', 'started']);
    const messages = fakes.inputsOf('deliverNotification').map((i) => (i as DeliverNotificationInput).message);
    const failed = messages.find((m) => m.event === 'failed')!;
    expect(failed.cause).toEqual({ type: ErrorType.SmokeTestFailed, message: 'smoke failed' });
    expect(messages.find((m) => m.event === 'compensation-failed')).toMatchObject({
      summary: 'compensation failed: roll back to v1 and verify it is healthy',
      leftToDoByHand: ['roll back to v1 and verify it is healthy'],
    });
    const keys = fakes
      .inputsOf('deliverNotification')
      .map((i) => (i as DeliverNotificationInput).idempotencyKey)
      .sort();
    expect(keys).toEqual(
      ['compensation-failed', 'failed', 'started'].map((event) => `notify/rollout/${spec.app}/r-cf/${event}`),
    );
  });

  it('an abort: failed (Aborted, with the reason) and rolled-back to the version serving before', async () => {
    const gate = new Gate();
    let healthCalls = 0;
    const fakes = new SagaFakes({
      deliverNotification,
      async waitForHealth() {
        healthCalls += 1;
        const passed = { attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } };
        return healthCalls === 1 ? gate.hold(async () => passed)() : passed;
      },
      async rollbackTo({ version }) {
        return deploymentSummary(version);
      },
    });
    const spec = notifyingSpec();
    await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${spec.app}`,
        args: [{ spec, rolloutId: 'r-abort' }],
      });
      await gate.entered;
      await handle.executeUpdate(abort, { args: [{ reason: 'wrong image' }] });
      gate.open();
      await handle.result().catch(() => undefined);
      await waitFor(() => fakes.inputsOf('deliverNotification').length === 3, { what: 'three events delivered' });
    });
    const messages = fakes.inputsOf('deliverNotification').map((i) => (i as DeliverNotificationInput).message);
    expect(messages.map((m) => m.event).sort()).toEqual(['failed', 'rolled-back', 'started']);
    expect(messages.find((m) => m.event === 'failed')!.cause).toEqual({
      type: ErrorType.Aborted,
      message: 'aborted: wrong image',
    });
    expect(messages.find((m) => m.event === 'rolled-back')).toMatchObject({ servingVersion: 1, version: 2 });
  });

  it('a spec without notify starts no notify child at all (the saga’s calls are today’s)', async () => {
    const fakes = new SagaFakes({ deliverNotification });
    const spec = testSpec(testId('notify-none'));
    const history = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${spec.app}`,
        args: [{ spec, rolloutId: 'r-none' }],
      });
      return JSON.stringify(await client.workflow.getHandle(`rollout/${spec.app}`).fetchHistory());
    });
    expect(fakes.inputsOf('deliverNotification')).toEqual([]);
    expect(history).not.toContain('StartChildWorkflowExecution');
    expect(history).not.toContain('notify-events');
  });
});
