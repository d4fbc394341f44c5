import { ApplicationFailure } from '@temporalio/common';
import type { Platform } from '../platforms/platform';
import { planUpgradeFrom, type UpgradePlan } from '../spec/upgrade-plan';
import { UpgradeSpecError, type UpgradeRequest } from '../spec/upgrade-spec';
import { ErrorType } from '../shared/errors';
import type { AppRef } from './serving-activities';
import { withFailureTypes } from './to-application-failure';

/** Activities of the upgrade workflow. */
export const createUpgradeActivities = (deps: { platformNamed(name: 'local' | 'modal'): Platform }) => ({
  /** Plans an upgrade against the version serving now; NotFound when nothing was rolled out, SpecInvalid on bad input. */
  async planUpgrade(input: AppRef & { request: UpgradeRequest }): Promise<UpgradePlan> {
    const current = await withFailureTypes(() => deps.platformNamed(input.platform).currentDeployment(input.app));
    if (!current) {
      throw ApplicationFailure.create({
        type: ErrorType.NotFound,
        nonRetryable: true,
        message: `${input.app} was never rolled out on platform ${input.platform} (or is stopped): there is nothing to upgrade; roll it out first`,
      });
    }
    try {
      return planUpgradeFrom(current, input.request);
    } catch (err) {
      if (!(err instanceof UpgradeSpecError)) throw err;
      throw ApplicationFailure.create({ type: ErrorType.SpecInvalid, nonRetryable: true, message: err.message });
    }
  },
});

/** The upgrade activities' surface. */
export type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;
