import * as os from 'node:os';
import * as path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { describeConnection, loadTemporalConfig, TemporalConfigError } from './config/temporal-connection';
import { checkNamespace, NamespaceNotReadyError } from './config/temporal-namespace-check';
import { resolveSecret } from './config/secrets';
import { projectRoot } from './config/paths';
import { runningService } from './devstack/background-service';
import { LOCAL_HUB_FALLBACK_URL, LocalPlatform } from './platforms/local/local-platform';
import { platformPaths } from './platforms/local/platform-paths';
import { ModalPlatform } from './platforms/modal/modal-platform';
import { checkModalReady } from './platforms/modal/modal-preflight';
import type { Platform } from './platforms/platform';
import { LOCAL_TASK_QUEUE, MODAL_TASK_QUEUE } from './shared/task-queue';
import { workflowCodeOption } from './worker-bundle';

/** Options for running a worker. */
export interface WorkerOptions {
  taskQueue: string;
  /** Stops the worker when aborted (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
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

/** The hub a local worker downloads from: HF_ENDPOINT, else the hub glm-ops started in this state folder. */
export function localHubUrl(env: NodeJS.ProcessEnv): { url: string; from: string } {
  const configured = env.HF_ENDPOINT?.trim();
  if (configured) return { url: configured, from: 'HF_ENDPOINT' };
  const hub = runningService('hub', env);
  if (hub) return { url: String(hub.info.url), from: 'the hub glm-ops started in this state folder' };
  return { url: LOCAL_HUB_FALLBACK_URL, from: 'the default; no hub runs yet, the first local rollout starts one' };
}

/**
 * The local platform, wired again whenever the hub's address changes: a worker on a user's Temporal usually starts
 * before the CLI starts the hub (possibly on a free port other than 8700), so the address is read at each call.
 */
function localPlatformFollowingHub(env: NodeJS.ProcessEnv): Platform {
  let current: { url: string; platform: LocalPlatform } | undefined;
  const platform = (): LocalPlatform => {
    const { url } = localHubUrl(env);
    if (current?.url !== url) current = { url, platform: LocalPlatform.fromEnv({ ...env, HF_ENDPOINT: url }) };
    return current.platform;
  };
  return new Proxy({} as Platform, {
    get(_target, property) {
      const target = platform();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_target, property) => Reflect.has(platform(), property),
  });
}

/** The platforms a worker on this task queue drives, built from the environment (state dir, hub, Modal client). */
export function platformsFor(taskQueue: string, env: NodeJS.ProcessEnv): ActivityDeps['platforms'] {
  const platforms: Partial<Record<'local' | 'modal', Platform>> = {};
  if (taskQueue === MODAL_TASK_QUEUE) {
    platforms.modal = new ModalPlatform({ deployPy: path.join(projectRoot(), 'modal', 'deploy.py'), env });
  } else {
    platforms.local = env.HF_ENDPOINT?.trim() ? LocalPlatform.fromEnv(env) : localPlatformFollowingHub(env);
  }
  return platforms;
}

/** What the worker drives, in one line, so a user sees which hub and daemon a local worker uses. */
function describePlatforms(taskQueue: string, env: NodeJS.ProcessEnv): string {
  if (taskQueue === MODAL_TASK_QUEUE) {
    const readiness = checkModalReady(env);
    return readiness.ok
      ? 'platform modal: the modal client and credentials are configured on this machine'
      : `warning: platform modal: ${readiness.problem}: ${readiness.fix}`;
  }
  const hub = localHubUrl(env);
  return `platform local: hub at ${hub.url} (${hub.from}), platform daemon and volumes in ${platformPaths(env).root}`;
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
  const env = options.env ?? process.env;
  const report = options.report ?? (() => undefined);
  let config: ReturnType<typeof loadTemporalConfig>;
  try {
    config = loadTemporalConfig(env);
  } catch (err) {
    if (err instanceof TemporalConfigError) throw new WorkerNotReadyError(err.message);
    throw err;
  }
  const connection = await connect(config);
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
    report(describePlatforms(options.taskQueue, env));
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: options.taskQueue,
      identity,
      activities: createActivities({
        platforms: platformsFor(options.taskQueue, env),
        resolveSecret: (name) => resolveSecret(name, env),
      }),
      ...workflowCodeOption(),
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    report(`worker polling ${options.taskQueue}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
  runWorker({
    taskQueue: process.env.GLM_OPS_TASK_QUEUE ?? LOCAL_TASK_QUEUE,
    signal: controller.signal,
    report: (line) => console.log(line),
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
