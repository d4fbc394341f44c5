import { createHash } from 'node:crypto';
import * as path from 'node:path';

/** Folder of a repo's weights at a resolved commit, relative to the weights volume: `models/<owner>--<name>/<commit>`. */
export function weightsRelativeDir(repo: string, commit: string): string {
  return path.join('models', repo.replace('/', '--'), commit);
}

/** Folder of all downloaded commits of a repo, relative to the weights volume. */
export function repoRelativeDir(repo: string): string {
  return path.join('models', repo.replace('/', '--'));
}

/**
 * A file-name-safe, collision-free form of an image reference: readable characters kept, the rest replaced,
 * plus 8 hex of the reference's sha256 (`lmsysorg/sglang:v0.5.10` → `lmsysorg_sglang_v0.5.10-1a2b3c4d`).
 */
export function imageSlug(image: string): string {
  const readable = image.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${readable}-${createHash('sha256').update(image).digest('hex').slice(0, 8)}`;
}

/** Kernel cache folder for a GPU type and image, relative to the kernels volume: `deepgemm/<gpuType>/<image slug>`. */
export function kernelRelativeDir(gpuType: string, image: string): string {
  return path.join('deepgemm', gpuType.toUpperCase(), imageSlug(image));
}

/** The guide's marker name: `.compiled-<repo name part>` (`.compiled-GLM-5.1-FP8`). */
export function kernelMarkerName(repo: string): string {
  return `.compiled-${repo.split('/').pop()}`;
}
