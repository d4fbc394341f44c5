import { GPU_CATALOG, lookupGpu } from '../spec/gpu-catalog';

/** What the emulator needs to know about a GPU type: SM arch for kernel caches, VRAM for the KV budget. */
export interface EmulatedGpu {
  type: string;
  smArch: string;
  vramGiB: number;
  /** Highest `--mem-fraction-static` that still allocates the KV pool; above it the load OOMs (guide §4, §20). */
  maxMemFractionStatic: number;
  isBlackwell: boolean;
}

// The catalog's figure is the recommended value; the engine only OOMs a little above it (B200 0.90, H200 0.85).
const OOM_HEADROOM = 0.02;

/** Known GPU type names, for error messages. */
export const EMULATED_GPU_TYPES = Object.keys(GPU_CATALOG);

/** Looks up a GPU type in the spec's GPU catalog (case-insensitive, `B200:8` accepted); undefined when unknown. */
export function lookupEmulatedGpu(name: string): EmulatedGpu | undefined {
  const info = lookupGpu(name.split(':')[0] ?? '');
  if (!info) return undefined;
  return {
    type: info.type,
    smArch: info.smArch,
    vramGiB: Math.round((info.vramGB * 1e9) / 2 ** 30),
    maxMemFractionStatic: Math.round((info.recommendedMemFractionStatic + OOM_HEADROOM) * 100) / 100,
    isBlackwell: info.isBlackwell,
  };
}
