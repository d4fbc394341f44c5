import type { Spec } from '../spec/schema';

// The contract of `glm-ops rollout SPEC --plan`: what the read-only `rolloutPlanState` workflow reads on the worker
// the rollout would run on, with the same checks the rollout's steps make before they act.

/** Input of the read-only plan read. */
export interface RolloutPlanStateInput {
  spec: Spec;
}

/** The weights volume as the weights step's sentinel check sees it (no re-hash beyond the touched files). */
export interface PlanWeightsState {
  state: 'valid' | 'missing' | 'partial' | 'corrupt';
  /** The commit the spec's revision resolves to, when it resolved. */
  commit?: string;
  path: string;
  fileCount: number;
  bytes: number;
  problems: string[];
}

/** The kernels volume as the kernels step's marker check sees it (keyed by GPU type, SM arch, image, revision). */
export interface PlanKernelsState {
  state: 'valid' | 'missing' | 'stale';
  reasons: string[];
  path: string;
  /** The SM arch the valid or stale marker was compiled for. */
  markerSmArch?: string;
}

/** A version the platform recorded, with the spec it runs (what the plan diffs against). */
export interface PlanDeployment {
  version: number;
  deployedAt: string;
  spec: Spec;
}

/** What the plan reads: volumes, the version serving now and the newest version number the platform recorded. */
export interface RolloutPlanState {
  weights: PlanWeightsState;
  kernels: PlanKernelsState;
  /** The version serving now (null: none, or stopped). */
  current: PlanDeployment | null;
  /** The highest version the platform recorded for the app (0: none): a deploy records the next one. */
  latestVersion: number;
  /** Where it was read, in words (the worker's host and task queue). */
  readBy: string;
}
