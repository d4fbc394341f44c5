import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { waitUntilHealthy } from './health-wait';
import { compensation } from './retry-profiles';

// A restore is the way back: its calls retry through a platform outage (see `compensation`).
const act = proxyActivities<Activities>(compensation);

/** What a restore did: the version serving again (its image and GPU) and the /health attempt it answered on. */
export interface Restored {
  version: number;
  sglangImage: string;
  gpuType: string;
  healthAttempt: number;
}

/**
 * Rolls the app back to `version`, then verifies that version is healthy again, with the health settings it was
 * deployed with (the platform returns them with the rollback). The rollout's compensation and the incident-path
 * rollback both end this way; an upgrade's failed child has already run it.
 */
export async function restorePrevious(
  ref: { app: string; platform: 'local' | 'modal' },
  version: number,
  options: { marginSec?: number; summary?: string } = {},
): Promise<Restored> {
  const restored = await act.rollbackTo.executeWithOptions({ summary: options.summary ?? `Roll back to v${version}` }, [
    { ...ref, version },
  ]);
  const health = await waitUntilHealthy(ref, restored, {
    summary: `Verify v${version} is healthy again`,
    marginSec: options.marginSec,
  });
  return {
    version: restored.version,
    sglangImage: restored.sglangImage,
    gpuType: restored.gpuType,
    healthAttempt: health.attempt,
  };
}
