import { log } from '@temporalio/activity';
import type { Platform } from '../platforms/platform';
import { summarize, type AppRef, type DeploymentSummary } from './serving-activities';
import { withFailureTypes } from './to-application-failure';

/** A deployment the platform recorded as verified, and when. */
export interface VerifiedSummary extends DeploymentSummary {
  verifiedAt: string;
}

/**
 * The platform's record of verified versions: the rollout marks its version once the smoke tests passed and a
 * rollback once its health check did; the way back of the next rollout (and `rollback`'s default) is read from it.
 */
export const createVerificationActivities = (deps: { platformNamed(name: 'local' | 'modal'): Platform }) =>
  withFailureTypes({
    /** Records that `version` passed its gates; durable on the platform, so it outlives a terminated workflow. */
    async markVerified(input: AppRef & { version: number }): Promise<void> {
      await deps.platformNamed(input.platform).markVerified(input.app, input.version);
      log.info('version verified', { app: input.app, version: input.version });
    },

    /** The latest verified version the app still has (other than `excluding`), or null when none ever was. */
    async lastVerifiedDeployment(input: AppRef & { excluding?: number }): Promise<VerifiedSummary | null> {
      const verified = await deps
        .platformNamed(input.platform)
        .lastVerified(input.app, input.excluding === undefined ? {} : { excluding: input.excluding });
      return verified && { ...summarize(verified), verifiedAt: verified.verifiedAt };
    },
  });
