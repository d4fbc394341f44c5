import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';
import { specFlagChanges } from './flag-renames';
import { lookupGpu } from './gpu-catalog';
import type { Spec } from './schema';
import { numberArg } from './spec-args';
import { flagTableForImage } from './sglang-version';

/** What an upgrade asks for: a new SGLang image, a new GPU type, or both. */
export interface UpgradeRequest {
  sglangImage?: string;
  gpuType?: string;
}

/** One field an upgrade changed, and why. */
export interface SpecChange {
  path: string;
  from: unknown;
  to: unknown;
  why: string;
}

/**
 * An upgrade asked for something the catalog cannot support (SpecInvalid), or for nothing new: what is deployed
 * already runs the requested image and GPU (AlreadyCurrent).
 */
export class UpgradeSpecError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
    readonly errorType: typeof ErrorType.SpecInvalid | typeof ErrorType.AlreadyCurrent = ErrorType.SpecInvalid,
  ) {
    super(message);
  }

  override get details(): Record<string, unknown> {
    return { field: this.field };
  }
}

/**
 * Derives the spec of an upgrade (guide §20): bump the SGLang image and/or switch GPU type; when VRAM per GPU drops,
 * tighten --mem-fraction-static to the catalog's recommendation for the new GPU (B200 → H200: 0.88 → 0.83). A GPU
 * change also invalidates the DeepGEMM cache, which is reported as a change of the kernel marker.
 */
export function deriveUpgradedSpec(spec: Spec, request: UpgradeRequest): { spec: Spec; changes: SpecChange[] } {
  const next: Spec = structuredClone(spec);
  const changes: SpecChange[] = [];
  if (request.sglangImage !== undefined && request.sglangImage !== spec.sglang.image) {
    if (!/^\S{1,256}$/.test(request.sglangImage)) {
      throw new UpgradeSpecError(
        'sglangImage',
        `sglangImage ${JSON.stringify(request.sglangImage)} must be one image tag without spaces`,
      );
    }
    next.sglang.image = request.sglangImage;
    changes.push({
      path: 'sglang.image',
      from: spec.sglang.image,
      to: request.sglangImage,
      why: 'guide §20 step 1: align the image tag with the SGLang release you validated',
    });
    changes.push({
      path: 'kernels',
      from: 'compiled',
      to: 'recompile',
      why: 'DeepGEMM kernels are built by the SGLang image; the marker records the image, so the rollout recompiles',
    });
    changes.push(...respellFlags(next, spec.sglang.image, request.sglangImage));
  }
  if (request.gpuType !== undefined && request.gpuType.toUpperCase() !== spec.gpu.type.toUpperCase()) {
    const to = lookupGpu(request.gpuType);
    if (!to)
      throw new UpgradeSpecError(
        'gpuType',
        `gpuType ${JSON.stringify(request.gpuType)} is not in the GPU catalog: use B200, B300, H200 or H100`,
      );
    const from = lookupGpu(spec.gpu.type);
    next.gpu.type = to.type;
    changes.push({ path: 'gpu.type', from: spec.gpu.type, to: to.type, why: 'guide §20 step 1: bump GPU_TYPE' });
    if (!changes.some((change) => change.path === 'kernels')) {
      changes.push({
        path: 'kernels',
        from: `${spec.gpu.type}${from ? ` (${from.smArch})` : ''}`,
        to: `${to.type} (${to.smArch})`,
        why: 'guide §20 step 2: DeepGEMM kernels are architecture-locked; invalidate .compiled-<model> and recompile on the new SKU',
      });
    }
    const memFraction = numberArg(spec, 'mem-fraction-static');
    if (memFraction !== undefined && from && to.vramGB < from.vramGB && memFraction > to.recommendedMemFractionStatic) {
      next.sglang.args['mem-fraction-static'] = to.recommendedMemFractionStatic;
      changes.push({
        path: 'sglang.args.mem-fraction-static',
        from: memFraction,
        to: to.recommendedMemFractionStatic,
        why: `guide §20 step 3: VRAM per GPU drops ${from.vramGB} → ${to.vramGB} GB; tighten mem-fraction (test KV headroom)`,
      });
    }
  }
  return { spec: next, changes };
}

/**
 * Moves `sglang.args` to the new release's spellings where SGLang itself names the successor: a renamed flag
 * (`nsa-decode-backend` → `dsa-decode-backend` in 0.5.23), a deprecated alias, a deprecated choice (`nsa` → `dsa`).
 * Flags that were removed, or whose successor is only a guess, stay as they are, so the upgraded spec's lint names them
 * and the upgrade stops before anything is deployed. Key order is kept.
 */
function respellFlags(next: Spec, fromImage: string, toImage: string): SpecChange[] {
  const fromTable = flagTableForImage(fromImage).table;
  const toTable = flagTableForImage(toImage).table;
  const changes: SpecChange[] = [];
  const renamedKeys = new Map<string, string>();
  for (const change of specFlagChanges(next.sglang.args, fromTable, toTable)) {
    if ((change.kind === 'renamed' && !change.isGuess) || (change.kind === 'deprecated' && change.to)) {
      const to = change.to as string;
      renamedKeys.set(change.key, to);
      changes.push({
        path: `sglang.args.${change.key}`,
        from: change.key,
        to,
        why: `SGLang ${toTable.version} ${change.kind === 'renamed' ? 'renamed the flag' : 'deprecates the flag'}: ${change.source}`,
      });
    } else if (change.kind === 'value-deprecated') {
      next.sglang.args[change.key] = change.to;
      changes.push({
        path: `sglang.args.${change.key}`,
        from: change.from,
        to: change.to,
        why: `SGLang ${toTable.version} keeps ${change.from} only as a deprecated alias (${change.source})`,
      });
    }
  }
  if (renamedKeys.size > 0) {
    next.sglang.args = Object.fromEntries(
      Object.entries(next.sglang.args).map(([key, value]) => [renamedKeys.get(key) ?? key, value]),
    );
  }
  return changes;
}
