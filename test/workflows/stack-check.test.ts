import { createActivities } from '../../src/activities';
import { stackCheck } from '../../src/workflows';
import { testId, withWorker } from '../helpers/temporal';

describe('stackCheck workflow', () => {
  it('runs its activity on a real worker and returns who answered', async () => {
    const result = await withWorker(
      createActivities({ platforms: {}, resolveSecret: () => '' }),
      ({ client, taskQueue }) =>
        client.workflow.execute(stackCheck, {
          taskQueue,
          workflowId: testId('stack-check'),
          args: [{ requestedBy: 'jest' }],
        }),
    );
    expect(result.requestedBy).toBe('jest');
    expect(result.worker.pid).toBe(process.pid);
    expect(result.worker.taskQueue).toMatch(/^tq-/);
  });
});
