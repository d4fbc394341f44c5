import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/** The Modal app name the workflow operates on. */
export const APP = defineSearchAttributeKey('GlmOpsApp', SearchAttributeType.KEYWORD);
/** The rollout phase currently running (weights, kernels, deploy, health, warmup, smoke, done, compensating). */
export const PHASE = defineSearchAttributeKey('GlmOpsPhase', SearchAttributeType.KEYWORD);
/** The GPU type of the spec (B200, H200, ...). */
export const GPU_TYPE = defineSearchAttributeKey('GlmOpsGpuType', SearchAttributeType.KEYWORD);
/** The SGLang image tag of the spec. */
export const SGLANG_IMAGE = defineSearchAttributeKey('GlmOpsSglangImage', SearchAttributeType.KEYWORD);
/** The platform version number that the workflow deployed (or rolled back to). */
export const DEPLOYED_VERSION = defineSearchAttributeKey('GlmOpsDeployedVersion', SearchAttributeType.INT);

/** Every custom key, registered on the dev server at start (`--search-attribute name=Type`). */
export const CUSTOM_SEARCH_ATTRIBUTES = [APP, PHASE, GPU_TYPE, SGLANG_IMAGE, DEPLOYED_VERSION];

/** The parts of a spec a rollout is searched by (structural, so shared/ needs no import of spec/). */
export interface RolloutSearchKeys {
  app: string;
  gpu: { type: string };
  sglang: { image: string };
}

/**
 * The search attributes a rollout starts with (app, GPU type, SGLang image, phase `validate`), for the CLI's and the
 * upgrade's start options and the rollout's own first upsert, so all three index a rollout the same way.
 */
export function initialRolloutSearchAttributes(spec: RolloutSearchKeys): SearchAttributePair[] {
  return [
    { key: APP, value: spec.app },
    { key: GPU_TYPE, value: spec.gpu.type },
    { key: SGLANG_IMAGE, value: spec.sglang.image },
    { key: PHASE, value: 'validate' },
  ];
}

/** The image and GPU a version runs with, as the list shows them (what a rollout or upgrade left serving, or plans). */
export function imageAndGpuAttributes(version: { sglangImage: string; gpuType: string }): SearchAttributePair[] {
  return [
    { key: SGLANG_IMAGE, value: version.sglangImage },
    { key: GPU_TYPE, value: version.gpuType },
  ];
}
