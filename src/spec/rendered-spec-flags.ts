import type { Spec, SglangArgValue } from './schema';
import { resolveSpecFlag, type SpecFlagResolution } from './spec-flags';
import { flagTableForImage, type ResolvedFlagTable } from './sglang-version';

/** One key of `sglang.args` that reaches the argv, with its value and what the release's parser makes of it. */
export interface RenderedSpecFlag {
  key: string;
  value: SglangArgValue;
  resolved: SpecFlagResolution;
}

/**
 * The flag table of the spec's image and every `sglang.args` key resolved against it, for the sglang-flag-* rules.
 * Keys set to false are left out: false omits the flag from the argv, so SGLang never sees it.
 */
export function renderedSpecFlags(spec: Pick<Spec, 'sglang'>): ResolvedFlagTable & { flags: RenderedSpecFlag[] } {
  const resolvedTable = flagTableForImage(spec.sglang.image);
  const flags = Object.entries(spec.sglang.args)
    .filter(([, value]) => value !== false)
    .map(([key, value]) => ({ key, value, resolved: resolveSpecFlag(resolvedTable.table, key) }));
  return { ...resolvedTable, flags };
}
