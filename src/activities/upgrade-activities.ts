import { ApplicationFailure } from '@temporalio/common';
import type { Platform } from '../platforms/platform';
import { formatFinding } from '../spec/finding';
import { lintSpec } from '../spec/lint';
import type { Spec } from '../spec/schema';
import { deriveUpgradedSpec, UpgradeSpecError, type SpecChange } from '../spec/upgrade-spec';
import { ErrorType } from '../shared/errors';
import type { AppRef } from './serving-activities';
import { withFailureTypes } from './to-application-failure';

/** What an upgrade asks for: a new SGLang image, a new GPU type, or both. */
export interface UpgradeRequest {
  sglangImage?: string;
  gpuType?: string;
}

/** The plan of an upgrade, computed against what is deployed when the upgrade runs (not when it was scheduled). */
export interface UpgradePlan {
  fromVersion: number;
  fromSpec: Spec;
  spec: Spec;
  changes: SpecChange[];
  /** Lint warnings of the new spec (errors fail the plan). */
  warnings: string[];
}

/**
 * Reads the deployed spec, derives the upgraded one (guide §20) and lints it. Pure apart from the platform read, so the
 * CLI's preview and the workflow's plan come from the same function.
 */
export function planUpgradeFrom(deployed: { version: number; spec: Spec }, request: UpgradeRequest): UpgradePlan {
  const { spec, changes } = deriveUpgradedSpec(deployed.spec, request);
  if (changes.length === 0) {
    throw new UpgradeSpecError(
      request.gpuType ? 'gpuType' : 'sglangImage',
      `v${deployed.version} already runs ${deployed.spec.sglang.image} on ${deployed.spec.gpu.type}: nothing to upgrade (give a different --sglang-image or --gpu)`,
    );
  }
  const findings = lintSpec(spec);
  const errors = findings.filter((f) => f.level === 'error');
  if (errors.length > 0) {
    throw new UpgradeSpecError(
      errors[0]!.path,
      `the upgraded spec breaks ${errors.length} rule(s): ${errors.map(formatFinding).join(' | ')}`,
    );
  }
  return {
    fromVersion: deployed.version,
    fromSpec: deployed.spec,
    spec,
    changes,
    warnings: findings.filter((f) => f.level === 'warning').map(formatFinding),
  };
}

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
