import { hasExplicitTemporalConfig } from '../config/temporal-connection';
import { ensureTemporal, ensureWorker, stackUp, type StackReporter } from '../devstack/dev-stack';
import { waitForFrontend } from '../devstack/dev-server';
import { checkModalReady } from '../platforms/modal/modal-preflight';
import type { Spec } from '../spec/schema';
import { MODAL_TASK_QUEUE } from '../shared/task-queue';

/** Thrown before any workflow starts when the spec's platform cannot be driven from here. */
export class PlatformNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformNotReadyError';
  }
}

/**
 * Makes sure whatever the spec's platform needs is running before a workflow starts: for `local` on the embedded
 * default, the whole stack (hub, platform daemon, Temporal, worker); for `modal`, the client and credentials (checked
 * first, so a missing one fails fast with its fix) and, on the embedded default, a worker for the Modal queue.
 */
export async function ensureStackForSpec(
  spec: Spec,
  report: StackReporter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (spec.platform === 'modal') {
    const readiness = checkModalReady(env);
    if (!readiness.ok) throw new PlatformNotReadyError(`platform modal: ${readiness.problem}: ${readiness.fix}`);
  }
  if (hasExplicitTemporalConfig(env)) {
    report('Temporal is configured through its environment (TEMPORAL_ADDRESS / profile): using it and its workers');
    return;
  }
  if (spec.platform === 'local') {
    await stackUp(report, env);
    return;
  }
  const temporal = await ensureTemporal(report, env);
  await waitForFrontend(String(temporal.info.address), temporal.pid, 30_000, temporal.logFile);
  await ensureWorker(temporal, report, env, { taskQueue: MODAL_TASK_QUEUE });
}
