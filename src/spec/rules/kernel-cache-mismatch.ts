import { findingOf, type Finding, type LintRule } from '../finding';
import { lookupGpu } from '../gpu-catalog';

/** DeepGEMM kernels are compiled for one SM architecture and SGLang build. */
export const kernelCacheMismatch: LintRule = {
  id: 'kernel-cache-mismatch',
  summary: 'DeepGEMM kernel cache compiled for another GPU type (or SGLang image)',
  reason:
    'guide §18, §20: never change GPU_TYPE without recompiling DeepGEMM; without a valid cache cold starts take 15+ min',
  check(spec, context) {
    const marker = context.kernelMarker;
    if (!marker) return [];
    const findings: Finding[] = [];
    if (marker.gpuType.toUpperCase() !== spec.gpu.type.toUpperCase()) {
      const from = lookupGpu(marker.gpuType);
      const to = lookupGpu(spec.gpu.type);
      findings.push(
        findingOf(this, {
          level: 'warning',
          path: 'gpu.type',
          message: `the kernel cache was compiled for ${marker.gpuType}${from ? ` (${from.smArch})` : ''}, not ${spec.gpu.type}${to ? ` (${to.smArch})` : ''}`,
          fix: 'invalidate the DeepGEMM marker and recompile on the new GPU (a rollout does this before deploy)',
        }),
      );
    }
    if (marker.sglangImage !== undefined && marker.sglangImage !== spec.sglang.image) {
      findings.push(
        findingOf(this, {
          level: 'warning',
          path: 'sglang.image',
          message: `the kernel cache was compiled with image ${marker.sglangImage}, not ${spec.sglang.image}`,
          fix: 'recompile DeepGEMM with the new image (a rollout does this before deploy)',
        }),
      );
    }
    return findings;
  },
};
