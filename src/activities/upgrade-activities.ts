import { ApplicationFailure } from '@temporalio/common';
import type { Platform } from '../platforms/platform';
import { planUpgradeFrom, type UpgradePlan } from '../spec/upgrade-plan';
import type { UpgradeRequest } from '../spec/upgrade-spec';
import { ErrorType } from '../shared/errors';
import type { AppRef } from './serving-activities';
import { withFailureTypes } from './to-application-failure';

/** Activities of the upgrade workflow. */
export const createUpgradeActivities = (deps: { platformNamed(name: 'local' | 'modal'): Platform }) =>
  withFailureTypes({
    /**
     * Plans an upgrade against the version serving now: NotFound when nothing was rolled out, SpecInvalid on bad
     * input, AlreadyCurrent when the deployed version already runs what was asked (`UpgradeSpecError` says which).
     */
    async planUpgrade(input: AppRef & { request: UpgradeRequest }): Promise<UpgradePlan> {
      const current = await deps.platformNamed(input.platform).currentDeployment(input.app);
      if (!current) {
        throw ApplicationFailure.create({
          type: ErrorType.NotFound,
          message: `${input.app} was never rolled out on platform ${input.platform} (or is stopped): there is nothing to upgrade; roll it out first`,
        });
      }
      return planUpgradeFrom(current, input.request);
    },
  });

/** The upgrade activities' surface. */
export type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;
