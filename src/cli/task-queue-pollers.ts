import { temporal } from '@temporalio/proto';

const { TaskQueueType } = temporal.api.enums.v1;

/** The one call the poller check makes (the client Connection's workflow service has it). */
export interface TaskQueueService {
  describeTaskQueue(
    request: temporal.api.workflowservice.v1.IDescribeTaskQueueRequest,
  ): Promise<temporal.api.workflowservice.v1.IDescribeTaskQueueResponse>;
}

/** Who polls a task queue, per task type (a glm-ops worker polls both). */
export interface TaskQueuePollers {
  workflow: temporal.api.taskqueue.v1.IPollerInfo[];
  activity: temporal.api.taskqueue.v1.IPollerInfo[];
}

/** The command that starts a worker for a task queue, as the messages print it. */
export function startWorkerCommand(taskQueue: string): string {
  return `glm-ops worker --task-queue ${taskQueue}`;
}

/**
 * The pollers the server has seen on a task queue, for workflow and activity tasks. The server keeps a poller listed
 * for a few minutes after its last poll, so a worker killed moments ago still counts; `--wait` covers that case by
 * watching whether the rollout's tasks get picked up.
 */
export async function describePollers(
  service: TaskQueueService,
  namespace: string,
  taskQueue: string,
): Promise<TaskQueuePollers> {
  const ask = async (taskQueueType: temporal.api.enums.v1.TaskQueueType) =>
    (await service.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType })).pollers ?? [];
  const [workflow, activity] = await Promise.all([
    ask(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    ask(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
  ]);
  return { workflow, activity };
}

/** The one-line problem when a task type has no poller, or undefined when both have one. */
export function noWorkerProblem(
  pollers: TaskQueuePollers,
  target: { taskQueue: string; namespace: string; address: string },
): string | undefined {
  const missing = [
    ...(pollers.workflow.length === 0 ? ['workflow'] : []),
    ...(pollers.activity.length === 0 ? ['activity'] : []),
  ];
  if (missing.length === 0) return undefined;
  const what = missing.length === 2 ? 'no worker polls' : `no worker polls ${missing[0]} tasks on`;
  return `${what} task queue ${target.taskQueue} in namespace ${target.namespace} at ${target.address}: start one with \`${startWorkerCommand(target.taskQueue)}\` (same Temporal settings), then run this again`;
}
