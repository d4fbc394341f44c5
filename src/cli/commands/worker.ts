import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { LOCAL_TASK_QUEUE } from '../../shared/task-queue';

/** Exit code when the worker refuses to start (Temporal unreachable, no such namespace, search attributes missing). */
const EXIT_NOT_READY = 2;

/** `glm-ops worker`: run a worker in the foreground until SIGINT/SIGTERM. */
export function registerWorkerCommand(program: Command, settings: Config): void {
  program
    .command('worker')
    .description('run a worker (workflows + activities) in the foreground')
    .option('--task-queue <name>', 'task queue to poll', LOCAL_TASK_QUEUE)
    .action(async (options: { taskQueue: string }) => {
      // Loaded on demand so that light commands (the emulator) do not pay for the Temporal worker at start-up.
      const { runWorker, WorkerNotReadyError } = require('../../worker') as typeof import('../../worker');
      const controller = new AbortController();
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
      try {
        await runWorker({
          taskQueue: options.taskQueue,
          config: settings,
          signal: controller.signal,
          report: (line) => console.log(line),
        });
      } catch (err) {
        if (!(err instanceof WorkerNotReadyError)) throw err;
        console.error(`glm-ops worker: ${err.message}`);
        process.exitCode = EXIT_NOT_READY;
      }
    });
}
