import { ErrorType } from '../shared/errors';
import { formatFinding } from './finding';
import { lintSpec } from './lint';
import type { Spec } from './schema';
import { deriveUpgradedSpec, UpgradeSpecError, type SpecChange, type UpgradeRequest } from './upgrade-spec';

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
 * Derives the upgraded spec from the deployed one (guide §20) and lints it. Pure, so the CLI's preview and the
 * workflow's `planUpgrade` activity compute the same plan.
 */
export function planUpgradeFrom(deployed: { version: number; spec: Spec }, request: UpgradeRequest): UpgradePlan {
  const { spec, changes } = deriveUpgradedSpec(deployed.spec, request);
  if (changes.length === 0) {
    throw new UpgradeSpecError(
      request.gpuType ? 'gpuType' : 'sglangImage',
      `v${deployed.version} already runs ${deployed.spec.sglang.image} on ${deployed.spec.gpu.type}: nothing to upgrade (give a different --sglang-image or --gpu)`,
      ErrorType.AlreadyCurrent,
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
