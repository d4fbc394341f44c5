import type { SpecChange, UpgradeRequest } from '../spec/upgrade-spec';
import type { CompensationReport, DiagnosisReport } from './rollout-types';

// The upgrade workflow's contract: the CLI, the upgrade schedule and the workflow all import it from here, so neither
// the client side nor schedules/ imports workflow code.

export type { UpgradeRequest };

/** Input of an upgrade: what to change, never the spec (it is read from what is deployed when the upgrade runs). */
export interface UpgradeInput {
  app: string;
  platform: 'local' | 'modal';
  request: UpgradeRequest;
  /** Idempotency key of the recompile and the child rollout's deploy. */
  upgradeId: string;
  requestedBy?: string;
}

/** Why an upgrade was rolled back: the child rollout's failure and its diagnosis, in the guide's terms. */
export interface UpgradeDiagnosis {
  cause: string;
  message: string;
  failedPhase?: string;
  /** The version the failed child rollout deployed (and compensated away from), when it got that far. */
  attemptedVersion?: number;
  diagnoses: DiagnosisReport[];
  compensations: CompensationReport[];
}

/** What an upgrade did: upgraded to a new version, or rolled back with the previous version verified serving. */
export interface UpgradeResult {
  app: string;
  upgradeId: string;
  outcome: 'upgraded' | 'rolled-back';
  fromVersion: number;
  /** The version serving at the end: the new one, or the previous one again. */
  servingVersion: number;
  toVersion?: number;
  /**
   * After a rollback: what the upgrade tried and no longer serves (the child's version, when it deployed one, and the
   * image and GPU it ran), kept apart from {@link servingVersion}.
   */
  attempted?: { version?: number; sglangImage: string; gpuType: string };
  changes: SpecChange[];
  /** True when the upgrade itself invalidated (if stale) and recompiled the new GPU's DeepGEMM cache (guide §20). */
  isKernelRecompiled: boolean;
  kernelCacheBefore?: 'valid' | 'missing' | 'stale';
  rolloutWorkflowId: string;
  diagnosis?: UpgradeDiagnosis;
  warnings: string[];
}
