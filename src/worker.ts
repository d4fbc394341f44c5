import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { loadTemporalConfig } from './config/temporal-connection';
import { resolveSecret } from './config/secrets';
import * as path from 'node:path';
import { projectRoot } from './config/paths';
import { LocalPlatform } from './platforms/local/local-platform';
import { ModalPlatform } from './platforms/modal/modal-platform';
import type { Platform } from './platforms/platform';
import { LOCAL_TASK_QUEUE, MODAL_TASK_QUEUE } from './shared/task-queue';
import { workflowCodeOption } from './worker-bundle';

/** Options for running a worker. */
export interface WorkerOptions {
  taskQueue: string;
  /** Stops the worker when aborted (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** The platforms a worker on this task queue drives, built from the environment (state dir, hub, Modal client). */
export function platformsFor(taskQueue: string, env: NodeJS.ProcessEnv): ActivityDeps['platforms'] {
  const platforms: Partial<Record<'local' | 'modal', Platform>> = {};
  if (taskQueue === MODAL_TASK_QUEUE) {
    platforms.modal = new ModalPlatform({ deployPy: path.join(projectRoot(), 'modal', 'deploy.py'), env });
  } else {
    platforms.local = LocalPlatform.fromEnv(env);
  }
  return platforms;
}

/** The composition root: Temporal config → adapters → activities → worker; runs until the signal aborts. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const env = options.env ?? process.env;
  const config = loadTemporalConfig(env);
  const connection = await NativeConnection.connect(config.connectionOptions);
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: options.taskQueue,
      activities: createActivities({
        platforms: platformsFor(options.taskQueue, env),
        resolveSecret: (name) => resolveSecret(name, env),
      }),
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
