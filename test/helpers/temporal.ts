import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { HEARTBEAT_SEND_INTERVAL, type Activities } from '../../src/activities';

let runtimeInstalled = false;

/** Keeps the SDK's own logging to errors: the failure drills would otherwise print every expected failure. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* already installed by another helper in this process */
  }
}

/** The address of the run's dev server (started by test/global-setup.ts). */
export function testTemporalAddress(): string {
  const address = process.env.GLM_OPS_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('no test Temporal server: run through jest (global setup starts it)');
  return address;
}

/** The run's prebuilt workflow bundle, so no test bundles workflow code again. */
export function testWorkflowBundle(): { codePath: string } {
  const codePath = process.env.GLM_OPS_TEST_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('no workflow bundle: run through jest (global setup builds it)');
  return { codePath };
}

/** A unique id for task queues and workflow ids, so tests never share state. */
export function testId(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A client connected to the run's dev server; close the connection after. */
export async function testClient(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: testTemporalAddress() });
  return { client: new Client({ connection }), connection };
}

/** What a test body gets while its worker runs. */
export interface WorkerContext {
  client: Client;
  taskQueue: string;
}

/**
 * Runs a real worker with the project's workflows and the given activities for the duration of `body`,
 * on a task queue of its own. `activities` is typed against the real surface, so a fake with a misspelt name or a
 * wrong signature does not compile; it is Partial because a workflow test registers only what its path calls (a
 * workflow that schedules a missing one fails with "Activity function ... is not registered").
 */
export async function withWorker<T>(
  activities: Partial<Activities>,
  body: (context: WorkerContext) => Promise<T>,
  options: { taskQueue?: string; maxConcurrentActivityTaskExecutions?: number } = {},
): Promise<T> {
  quietRuntime();
  const taskQueue = options.taskQueue ?? testId('tq');
  const nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
  const { client, connection } = await testClient();
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      activities,
      workflowBundle: testWorkflowBundle(),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions,
      maxHeartbeatThrottleInterval: HEARTBEAT_SEND_INTERVAL,
    });
    return await worker.runUntil(body({ client, taskQueue }));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}
