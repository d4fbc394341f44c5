import type { Config } from '../config/config';
import { platformsFor } from '../platform-wiring';

/** What the platform says about an app beside the rollout's own report: what serves, what was last verified. */
export type ServingVersions =
  { servingVersion: number | null; lastVerifiedVersion: number | null } | { unavailable: string };

/**
 * Asks the platform the rollout ran on (known from its task queue) which version serves and which it last saw pass
 * its gates: the record the next rollout's compensation and `rollback` use, which a terminated rollout can leave
 * apart from what serves. A platform that does not answer is reported, never fatal to `status`.
 */
export async function servingVersions(app: string, taskQueue: string, config: Config): Promise<ServingVersions> {
  const platform = Object.values(platformsFor(taskQueue, config))[0];
  if (!platform) return { unavailable: `no platform drives task queue ${taskQueue}` };
  try {
    const [current, verified] = await Promise.all([platform.currentDeployment(app), platform.lastVerified(app)]);
    return { servingVersion: current?.version ?? null, lastVerifiedVersion: verified?.version ?? null };
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) };
  }
}

/** One line for `status`: `serving v3, last verified v2`, or why the platform could not say. */
export function describeServingVersions(versions: ServingVersions): string {
  if ('unavailable' in versions) return `platform: not answering (${versions.unavailable})`;
  const serving = versions.servingVersion === null ? 'nothing serving' : `serving v${versions.servingVersion}`;
  const verified =
    versions.lastVerifiedVersion === null
      ? 'no version verified yet'
      : `last verified v${versions.lastVerifiedVersion}`;
  return `platform: ${serving}, ${verified}`;
}
