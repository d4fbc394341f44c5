import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadTemporalConfig } from './config/temporal-connection';
import { LOCAL_TASK_QUEUE } from './shared/task-queue';
import { workflowCodeOption } from './worker-bundle';

/** Options for running a worker. */
export interface WorkerOptions {
  taskQueue: string;
  /** Stops the worker when aborted (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
}

/** The composition root: Temporal config → adapters → activities → worker; runs until the signal aborts. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const config = loadTemporalConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: options.taskQueue,
      activities: createActivities(),
      ...workflowCodeOption(),
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
  runWorker({ taskQueue: process.env.GLM_OPS_TASK_QUEUE ?? LOCAL_TASK_QUEUE, signal: controller.signal }).catch(
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
