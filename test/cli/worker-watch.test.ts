import { google, temporal } from '@temporalio/proto';
import { noWorkerProblem } from '../../src/cli/task-queue-pollers';
import { oldestUnstartedTask } from '../../src/cli/worker-watch';

const { PendingActivityState, PendingWorkflowTaskState } = temporal.api.enums.v1;
const at = (ms: number) =>
  google.protobuf.Timestamp.fromObject({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
const now = 1_800_000_000_000;

describe('what a rollout waits on when no worker picks it up', () => {
  it('finds the longest-waiting unstarted task: a scheduled activity or workflow task, not a started one', () => {
    expect(
      oldestUnstartedTask(
        {
          pendingWorkflowTask: {
            state: PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
            scheduledTime: at(now - 3_000),
            originalScheduledTime: at(now - 4_000),
          },
          pendingActivities: [
            {
              activityType: { name: 'waitForHealth' },
              state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
              attempt: 2,
              scheduledTime: at(now - 9_500),
            },
            {
              activityType: { name: 'ensureWeights' },
              state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
              scheduledTime: at(now - 60_000),
            },
          ],
        },
        now,
      ),
    ).toEqual({ what: 'activity waitForHealth (attempt 2)', scheduledAtMs: now - 9_500 });
  });

  it('a retry still in its backoff (scheduled in the future) and started tasks are not waiting', () => {
    expect(
      oldestUnstartedTask(
        {
          pendingWorkflowTask: { state: PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED },
          pendingActivities: [
            {
              activityType: { name: 'deploy' },
              state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
              scheduledTime: at(now + 5_000),
            },
          ],
        },
        now,
      ),
    ).toBeUndefined();
  });

  it('says which task type lacks a poller, with the command that starts a worker', () => {
    const target = { taskQueue: 'glm-ops-local', namespace: 'prod', address: 'h:7233' };
    expect(noWorkerProblem({ workflow: [{ identity: 'a' }], activity: [{ identity: 'a' }] }, target)).toBeUndefined();
    expect(noWorkerProblem({ workflow: [], activity: [] }, target)).toBe(
      'no worker polls task queue glm-ops-local in namespace prod at h:7233: start one with `glm-ops worker --task-queue glm-ops-local` (same Temporal settings), then run this again',
    );
    expect(noWorkerProblem({ workflow: [{ identity: 'a' }], activity: [] }, target)).toMatch(
      /^no worker polls activity tasks on task queue glm-ops-local in namespace prod/,
    );
  });
});
