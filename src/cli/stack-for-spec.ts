import { Connection } from '@temporalio/client';
import type { Config } from '../config/config';
import {
  describeConnection,
  hasExplicitTemporalConfig,
  loadTemporalConfig,
  TemporalConfigError,
  type TemporalConnectConfig,
} from '../config/temporal-connection';
import { checkNamespace, NamespaceNotReadyError } from '../config/temporal-namespace-check';
import {
  localPlatformUp,
  modalStackUp,
  stackUp,
  type LocalPlatformParts,
  type StackReporter,
} from '../devstack/dev-stack';
import { embeddedTemporal } from '../devstack/embedded-temporal';
import { PortTakenError } from '../devstack/port-holder';
import { StackLockTimeoutError } from '../devstack/stack-lock';
import { checkModalReady, checkModalResources } from '../platforms/modal/modal-preflight';
import type { Spec } from '../spec/schema';
import { MODAL_TASK_QUEUE, taskQueueFor } from '../shared/task-queue';
import { describePollers, noWorkerProblem } from './task-queue-pollers';

/** Thrown before any workflow starts when the spec's platform cannot be driven from here. */
export class PlatformNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformNotReadyError';
  }
}

/** What the caller is about to do on the user's Temporal. */
export interface StackOptions {
  /** Check that a worker polls the spec's task queue (a workflow is about to start and be waited on). */
  requireWorker?: boolean;
}

/**
 * Makes sure whatever the spec's platform needs is running before a workflow starts. On the embedded default: for
 * `local`, the whole stack (hub, platform daemon, Temporal, worker); for `modal`, the client and credentials (checked
 * first, so a missing one fails fast with its fix) and a worker for the Modal queue. On the user's Temporal: the
 * namespace and its search attributes, a worker on the spec's queue when asked, and for `local` the hub and the
 * platform daemon (they do not depend on Temporal); the Modal credentials are then the Modal worker's business.
 */
export async function ensureStackForSpec(
  spec: Spec,
  report: StackReporter,
  config: Config,
  options: StackOptions = {},
): Promise<void> {
  try {
    await ensureStack(spec, report, config, options);
  } catch (err) {
    // A recorded port held by another program, or a stack another glm-ops never finished starting: not ready (exit 2).
    if (err instanceof PortTakenError || err instanceof StackLockTimeoutError)
      throw new PlatformNotReadyError(err.message);
    throw err;
  }
}

async function ensureStack(spec: Spec, report: StackReporter, config: Config, options: StackOptions): Promise<void> {
  if (hasExplicitTemporalConfig(config.env)) {
    await ensureAroundUserTemporal(spec, report, config, options);
    return;
  }
  if (spec.platform === 'modal') {
    const readiness = checkModalReady(config.env);
    if (!readiness.ok) throw new PlatformNotReadyError(`platform modal: ${readiness.problem}: ${readiness.fix}`);
    // The API-key secret and the volumes, with the real client, before any workflow or local process starts.
    const resources = await checkModalResources(spec, config.env);
    if (!resources.ok) throw new PlatformNotReadyError(`platform modal: ${resources.problem}: ${resources.fix}`);
    for (const note of resources.notes) report(note);
  }
  if (spec.platform === 'local') {
    await stackUp(report, config);
    return;
  }
  await modalStackUp(report, config);
}

/** The user's Temporal: check it before any side effect, then start the local parts, then say who runs what. */
async function ensureAroundUserTemporal(
  spec: Spec,
  report: StackReporter,
  config: Config,
  options: StackOptions,
): Promise<void> {
  const temporal = userTemporalConfig(config);
  const taskQueue = specTaskQueue(spec, config);
  for (const warning of await checkUserTemporal(temporal, options.requireWorker ? taskQueue : undefined)) {
    report(`warning: ${warning}`);
  }
  const parts = spec.platform === 'local' ? await localPlatformUp(report, config, { useOwnHub: true }) : undefined;
  report(whoRunsWhat(temporal, taskQueue, parts));
}

/** The user's Temporal settings; an unreadable profile is "not ready", named by the file. */
function userTemporalConfig(config: Config): TemporalConnectConfig {
  try {
    return loadTemporalConfig(config.env, () => embeddedTemporal(config.stateDir));
  } catch (err) {
    if (err instanceof TemporalConfigError) throw new PlatformNotReadyError(err.message);
    throw err;
  }
}

/** The queue a spec's workflows run on; GLM_OPS_TASK_QUEUE is the same override the worker reads. */
export function specTaskQueue(spec: Pick<Spec, 'platform'>, config: Config): string {
  return config.taskQueue ?? taskQueueFor(spec.platform);
}

/**
 * On the user's Temporal, refuses (PlatformNotReadyError) when no worker polls the spec's queue; for commands that
 * check their own input against the running stack first and start a workflow only after that.
 */
export async function requireWorkerFor(spec: Spec, config: Config): Promise<void> {
  if (!hasExplicitTemporalConfig(config.env)) return;
  await checkUserTemporal(userTemporalConfig(config), specTaskQueue(spec, config));
}

/** Connects once and checks the namespace, its search attributes and (with a task queue) that a worker polls it. */
async function checkUserTemporal(config: TemporalConnectConfig, taskQueue: string | undefined): Promise<string[]> {
  const { address, tls, apiKey, metadata } = config.connectionOptions;
  const connection = await Connection.connect({ address, tls, apiKey, metadata, connectTimeout: 5000 }).catch(
    (err: unknown) => {
      throw new PlatformNotReadyError(
        `cannot reach Temporal at ${address} (settings from ${config.origin}): ${err instanceof Error ? err.message : String(err)}`,
      );
    },
  );
  try {
    const { warnings } = await checkNamespace(connection, { address, namespace: config.namespace }).catch(
      (err: unknown) => {
        if (err instanceof NamespaceNotReadyError) throw new PlatformNotReadyError(err.message);
        throw err;
      },
    );
    if (taskQueue) {
      const pollers = await describePollers(connection.workflowService, config.namespace, taskQueue);
      const problem = noWorkerProblem(pollers, { taskQueue, namespace: config.namespace, address });
      if (problem) throw new PlatformNotReadyError(problem);
    }
    return warnings;
  } finally {
    await connection.close();
  }
}

/** The one plain line that says which parts are the user's and which this machine runs. */
function whoRunsWhat(config: TemporalConnectConfig, taskQueue: string, parts: LocalPlatformParts | undefined): string {
  const workers =
    taskQueue === MODAL_TASK_QUEUE
      ? `the workers on ${taskQueue} (they hold the Modal credentials)`
      : `the workers on ${taskQueue}`;
  const yours = [`${describeConnection(config)} (from ${config.origin})`, workers];
  if (parts && !parts.isHubEmbedded) yours.push(`the hub at ${parts.hubUrl} (HF_ENDPOINT)`);
  const embedded = parts
    ? [
        ...(parts.isHubEmbedded ? [`the hub at ${parts.hubUrl}`] : []),
        `the platform daemon (state in ${parts.platform.status.stateDir})`,
      ]
    : [];
  return `yours: ${yours.join('; ')}. embedded here: ${embedded.length > 0 ? embedded.join(' and ') : 'nothing'}`;
}
