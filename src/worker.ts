import * as os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, HEARTBEAT_SEND_INTERVAL } from './activities';
import { temporalBaselineReader } from './activities/performance-baseline';
import { loadConfig, type Config } from './config/config';
import { describeConnection, loadTemporalConfig, TemporalConfigError } from './config/temporal-connection';
import { checkNamespace, NamespaceNotReadyError } from './config/temporal-namespace-check';
import { secretSource } from './config/secrets';
import { embeddedTemporal } from './devstack/embedded-temporal';
import { describePlatforms, platformsFor } from './platform-wiring';
import { LOCAL_TASK_QUEUE } from './shared/task-queue';
import { workflowCodeOption } from './worker-bundle';

/** Options for running a worker. */
export interface WorkerOptions {
  taskQueue: string;
  /** Stops the worker when aborted (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  /** The settings the entry point read from its environment (loadConfig). */
  config: Config;
  /** Where start-up lines go (where it connected, what it drives); silent when omitted. */
  report?: (line: string) => void;
}

/** Thrown before the worker polls when its Temporal or namespace cannot run glm-ops; the message says what to run. */
export class WorkerNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerNotReadyError';
  }
}

/** Connects, or says where it tried and with which settings. */
async function connect(config: ReturnType<typeof loadTemporalConfig>): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(config.connectionOptions);
  } catch (err) {
    const hint = config.source === 'embedded' ? '; start the embedded stack with `glm-ops dev up`' : '';
    throw new WorkerNotReadyError(
      `cannot reach ${describeConnection(config)} (settings from ${config.origin})${hint}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * The composition root: Temporal config → adapters → activities → worker; runs until the signal aborts. Before it
 * polls, it says where it connected and checks the namespace and glm-ops' search attributes.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const settings = options.config;
  const report = options.report ?? (() => undefined);
  let config: ReturnType<typeof loadTemporalConfig>;
  try {
    config = loadTemporalConfig(settings.env, () => embeddedTemporal(settings.stateDir));
  } catch (err) {
    if (err instanceof TemporalConfigError) throw new WorkerNotReadyError(err.message);
    throw err;
  }
  const connection = await connect(config);
  const closeAfter: Array<() => Promise<void>> = [];
  try {
    const identity = `${process.pid}@${os.hostname()}`;
    report(
      `worker ${identity} connected to ${describeConnection(config)}, task queue ${options.taskQueue} (settings from ${config.origin})`,
    );
    const { address } = config.connectionOptions;
    const checked = await checkNamespace(connection, { address, namespace: config.namespace }).catch((err: unknown) => {
      if (!(err instanceof NamespaceNotReadyError)) throw err;
      const commands = err.commands.map((command) => `\n  ${command}`).join('');
      throw new WorkerNotReadyError(`${err.problem}; run:${commands}\nthen start the worker again`);
    });
    for (const warning of checked.warnings) report(`warning: ${warning}`);
    report(describePlatforms(options.taskQueue, settings));
    // The performance gate compares a candidate with the figures the version it replaces recorded in its rollout's
    // memo: a client of the same server and namespace reads them (visibility, then the memo).
    const { tls, apiKey, metadata } = config.connectionOptions;
    const clientConnection = await Connection.connect({ address, tls, apiKey, metadata });
    closeAfter.push(() => clientConnection.close());
    const readBaseline = temporalBaselineReader(
      new Client({ connection: clientConnection, namespace: config.namespace }),
    );
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: options.taskQueue,
      identity,
      activities: createActivities({
        platforms: platformsFor(options.taskQueue, settings),
        resolveSecret: secretSource(settings).resolve,
        performance: { readBaseline },
        temporalUi: { uiUrl: config.uiUrl, namespace: config.namespace },
      }),
      maxHeartbeatThrottleInterval: HEARTBEAT_SEND_INTERVAL,
      ...workflowCodeOption(),
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    report(`worker polling ${options.taskQueue}`);
    await worker.run();
  } finally {
    for (const close of closeAfter) await close();
    await connection.close();
  }
}

if (require.main === module) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
  const config = loadConfig(process.env);
  runWorker({
    taskQueue: config.taskQueue ?? LOCAL_TASK_QUEUE,
    config,
    signal: controller.signal,
    report: (line) => console.log(line),
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
