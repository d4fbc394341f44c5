import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { lookupGpu } from '../spec/gpu-catalog';
import { imageSlug, kernelMarkerName, kernelRelativeDir } from './storage-layout';

/** The compile twin's (and DeepGEMM-cache's) manifest: which SM arch the kernels are for and which files exist. */
export const KernelManifest = z.object({
  smArch: z.string().min(1),
  gpuType: z.string().min(1),
  files: z.array(z.string()),
});
export type KernelManifest = z.infer<typeof KernelManifest>;

/** Contents of the DeepGEMM marker, written last by a finished compile. */
export interface KernelMarker {
  model: string;
  gpuType: string;
  smArch: string;
  sglangImage: string;
  modelRevision: string;
  compiledAt: string;
  rolloutId?: string;
}

/** Whether the kernel cache matches a spec. */
export interface KernelCacheStatus {
  state: 'valid' | 'missing' | 'stale';
  /** Why the cache is stale: other GPU, other image, other revision. */
  reasons: string[];
  /** Cache folder, keyed by GPU type and SGLang image. */
  path: string;
  markerPath: string;
  marker?: KernelMarker;
}

/** The marker schema ({@link KernelMarker}). */
export const KernelMarkerSchema = z.object({
  model: z.string().min(1),
  gpuType: z.string().min(1),
  smArch: z.string().min(1),
  sglangImage: z.string().min(1),
  modelRevision: z.string().min(1),
  compiledAt: z.string().min(1),
  rolloutId: z.string().optional(),
});

/** What a compile must match: the model, GPU type, image and the commit the model revision resolved to. */
export interface KernelTarget {
  repo: string;
  gpuType: string;
  sglangImage: string;
  modelRevision: string;
}

/** SM arch of a GPU type from the catalog; unknown types are refused with the known ones named. */
export function smArchFor(gpuType: string): string {
  const gpu = lookupGpu(gpuType);
  if (!gpu) throw new Error(`gpu.type "${gpuType}" is not in the GPU catalog: use B200, B300, H200 or H100`);
  return gpu.smArch;
}

/**
 * Judges the kernel cache of a volume view for a target. Valid: the marker in the target's folder matches GPU,
 * SM arch, image and model revision, and the manifest's files exist. Stale: a marker exists but for something
 * else (in the folder, in another GPU/image folder, or the guide's single marker at the volume root). Missing: none.
 */
export async function evaluateKernelCache(volumeRoot: string, target: KernelTarget): Promise<KernelCacheStatus> {
  const dir = path.join(volumeRoot, kernelRelativeDir(target.gpuType, target.sglangImage));
  const markerPath = path.join(dir, kernelMarkerName(target.repo));
  const marker = await readMarker(markerPath);
  const base = { path: dir, markerPath };
  if (marker === 'malformed')
    return { ...base, state: 'stale', reasons: [`marker ${markerPath} is malformed: recompile`] };
  if (marker) {
    const reasons = markerMismatches(marker, target, smArchFor(target.gpuType));
    const manifestProblem = await checkManifest(dir, smArchFor(target.gpuType));
    if (manifestProblem) reasons.push(manifestProblem);
    return reasons.length === 0
      ? { ...base, state: 'valid', reasons: [], marker }
      : { ...base, state: 'stale', reasons, marker };
  }
  const elsewhere = await otherMarkers(volumeRoot, target);
  if (elsewhere.length > 0) {
    return {
      ...base,
      state: 'stale',
      reasons: elsewhere.map(
        ({ where, marker: other }) =>
          `no marker for this target; ${where} holds ${describeMismatch(other, target)}: recompile`,
      ),
    };
  }
  return {
    ...base,
    state: 'missing',
    reasons: [`no marker ${kernelMarkerName(target.repo)} in ${dir}: compile DeepGEMM kernels`],
  };
}

/** Writes the marker through a temp file and rename: the last step of a compile. */
export async function writeMarker(markerPath: string, marker: KernelMarker): Promise<void> {
  const temp = `${markerPath}.tmp-${process.pid}`;
  await fs.promises.writeFile(temp, `${JSON.stringify(KernelMarkerSchema.parse(marker), null, 2)}\n`);
  await fs.promises.rename(temp, markerPath);
}

/** Reads a marker; undefined when absent, 'malformed' when it is not a marker. */
export async function readMarker(markerPath: string): Promise<KernelMarker | undefined | 'malformed'> {
  let raw: string;
  try {
    raw = await fs.promises.readFile(markerPath, 'utf8');
  } catch {
    return undefined;
  }
  return parseMarker(raw);
}

/** Parses a marker's text; 'malformed' when it is not JSON or not a marker. */
export function parseMarker(raw: string): KernelMarker | 'malformed' {
  try {
    const parsed = KernelMarkerSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : 'malformed';
  } catch {
    return 'malformed';
  }
}

/**
 * Why a marker does not fit a target (empty when it does), for the local volume and for Modal's: other GPU or SM
 * arch (`smArch` is the target GPU's, resolved by the caller), image, model revision (skipped when the target has
 * none yet) or model.
 */
export function markerMismatches(
  marker: KernelMarker,
  target: Omit<KernelTarget, 'modelRevision'> & { modelRevision?: string },
  smArch: string,
): string[] {
  const reasons: string[] = [];
  if (marker.gpuType.toUpperCase() !== target.gpuType.toUpperCase()) {
    reasons.push(
      `other GPU: compiled for ${marker.gpuType} (${marker.smArch}), spec needs ${target.gpuType} (${smArch})`,
    );
  } else if (marker.smArch !== smArch) {
    reasons.push(`other SM arch: compiled for ${marker.smArch}, ${target.gpuType} is ${smArch}`);
  }
  if (marker.sglangImage !== target.sglangImage)
    reasons.push(`other image: compiled with ${marker.sglangImage}, spec uses ${target.sglangImage}`);
  if (target.modelRevision !== undefined && marker.modelRevision !== target.modelRevision) {
    reasons.push(`other model revision: compiled for ${marker.modelRevision}, weights are ${target.modelRevision}`);
  }
  if (marker.model !== target.repo)
    reasons.push(`other model: compiled for ${marker.model}, spec serves ${target.repo}`);
  return reasons;
}

function describeMismatch(marker: KernelMarker, target: KernelTarget): string {
  const mismatch = markerMismatches(marker, target, smArchFor(target.gpuType));
  return `a marker for ${marker.gpuType}/${marker.sglangImage}${mismatch.length ? ` (${mismatch.join('; ')})` : ''}`;
}

async function checkManifest(dir: string, smArch: string): Promise<string | undefined> {
  let manifest: KernelManifest;
  try {
    manifest = KernelManifest.parse(JSON.parse(await fs.promises.readFile(path.join(dir, 'manifest.json'), 'utf8')));
  } catch {
    return `kernel files are gone: ${path.join(dir, 'manifest.json')} is missing or malformed`;
  }
  if (manifest.smArch !== smArch) return `kernel files are for ${manifest.smArch}, need ${smArch}`;
  for (const file of manifest.files) {
    if (!(await fs.promises.stat(path.join(dir, file)).catch(() => undefined))) return `kernel file ${file} is missing`;
  }
  return undefined;
}

/** Markers elsewhere in the volume: other GPU/image folders for this model, and the guide's root marker. */
async function otherMarkers(
  volumeRoot: string,
  target: KernelTarget,
): Promise<Array<{ where: string; marker: KernelMarker }>> {
  const found: Array<{ where: string; marker: KernelMarker }> = [];
  const name = kernelMarkerName(target.repo);
  const rootMarker = await readMarker(path.join(volumeRoot, name));
  if (rootMarker && rootMarker !== 'malformed')
    found.push({ where: `the volume root (guide layout)`, marker: rootMarker });
  const deepgemm = path.join(volumeRoot, 'deepgemm');
  for (const gpu of await fs.promises.readdir(deepgemm).catch(() => [] as string[])) {
    for (const slug of await fs.promises.readdir(path.join(deepgemm, gpu)).catch(() => [] as string[])) {
      if (gpu === target.gpuType.toUpperCase() && slug === imageSlug(target.sglangImage)) continue;
      const marker = await readMarker(path.join(deepgemm, gpu, slug, name));
      if (marker && marker !== 'malformed') found.push({ where: `deepgemm/${gpu}/${slug}`, marker });
    }
  }
  return found;
}
