import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { describeFailureCause, failureCause } from '../../src/cli/failure-cause';
import { ErrorType } from '../../src/shared/errors';
import { rollbackApp } from '../../src/workflows';
import { deploymentSummary, failure, SagaFakes } from '../helpers/saga-fakes';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(60_000);

/** The failure a real rollback workflow ends with when its activity refused: the chain the CLI gets from the server. */
async function failedRollback(): Promise<WorkflowFailedError> {
  const fakes = new SagaFakes({
    async currentDeployment() {
      return deploymentSummary(2);
    },
    async rollbackTo({ app, version }) {
      throw failure(
        ErrorType.NotFound,
        `app "${app}" has no version ${version} (versions: v1, v2): roll back to one listed by history`,
      );
    },
  });
  const app = testId('cause');
  const err = await withWorker(fakes.activities, ({ client, taskQueue }) =>
    client.workflow
      .execute(rollbackApp, {
        taskQueue,
        workflowId: `rollback/${app}`,
        args: [{ app, platform: 'local', toVersion: 99 }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      ),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return err as WorkflowFailedError;
}

describe('failureCause: the reason the workflow or activity recorded, not the SDK wrapper', () => {
  it('walks WorkflowFailedError → ActivityFailure → ApplicationFailure to the activity’s own message and type', async () => {
    const err = await failedRollback();
    // What the CLI printed before: the wrapper's words.
    expect(err.cause?.message).toBe('Activity task failed');
    const cause = failureCause(err);
    expect(cause).toMatchObject({ type: ErrorType.NotFound, step: 'rollbackTo' });
    expect(cause.message).toMatch(/^app "cause-[0-9a-f-]+" has no version 99 \(versions: v1, v2\): roll back to one/);
    expect(describeFailureCause(err)).toBe(cause.message);
  });

  it('says a timeout, a termination or a plain error in words of its own', () => {
    const timedOut = new ActivityFailure(
      'Activity task timed out',
      'waitForHealth',
      '7',
      'TIMEOUT',
      undefined,
      new TimeoutFailure(undefined, undefined, 'HEARTBEAT'),
    );
    expect(failureCause(timedOut)).toEqual({
      message: 'waitForHealth timed out (HEARTBEAT)',
      type: 'Timeout',
      step: 'waitForHealth',
    });
    expect(failureCause(new TerminatedFailure('Workflow terminated'))).toEqual({
      message: 'the workflow was terminated',
      type: 'Terminated',
    });
    expect(failureCause(new Error('boom'))).toEqual({ message: 'boom' });
    expect(failureCause('text')).toEqual({ message: 'text' });
  });
});
