import * as z from 'zod';
import type { KernelCacheStatus } from '../platform';
import { DownloadSentinel } from '../../storage/download-sentinel';
import { markerMismatches, parseMarker } from '../../storage/kernel-cache';
import { lookupGpu } from '../../spec/gpu-catalog';

/** A sentinel read from a volume: parsed, or why it could not be. */
export type RemoteSentinel =
  { kind: 'absent' } | { kind: 'invalid'; problem: string } | { kind: 'ok'; sentinel: DownloadSentinel };

/** Parses the text `modal volume get` printed for the sentinel (null when the file does not exist). */
export function parseRemoteSentinel(text: string | null, sentinelName: string): RemoteSentinel {
  if (text === null) return { kind: 'absent' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: `sentinel ${sentinelName} is not valid JSON` };
  }
  const parsed = DownloadSentinel.safeParse(json);
  return parsed.success
    ? { kind: 'ok', sentinel: parsed.data }
    : { kind: 'invalid', problem: `sentinel ${sentinelName} is malformed: ${z.prettifyError(parsed.error)}` };
}

/**
 * Quick remote status (sizes only, from `modal volume ls`): every file the sentinel lists is in the listing with its
 * size, and the sentinel names the expected repo (and commit when the spec pins one). The listing shows no ctime or
 * inode, so it cannot see a same-size touch: the decision to skip a download is deploy.py's, inside Modal, where it
 * re-hashes every file whose stamp changed; hashes on demand need `full` (deploy.py's verify_setup).
 */
export function judgeRemoteWeights(
  sentinel: DownloadSentinel,
  sizes: ReadonlyMap<string, number>,
  expected: { repo: string; commit?: string },
): string[] {
  const problems: string[] = [];
  if (sentinel.repo !== expected.repo)
    problems.push(`sentinel names repo "${sentinel.repo}", expected "${expected.repo}"`);
  if (expected.commit && sentinel.commit !== expected.commit) {
    problems.push(`sentinel names commit ${sentinel.commit}, expected ${expected.commit}`);
  }
  const listedTotal = sentinel.files.reduce((sum, file) => sum + file.sizeBytes, 0);
  if (listedTotal !== sentinel.totalBytes)
    problems.push(`sentinel totalBytes ${sentinel.totalBytes} != sum of file sizes ${listedTotal}`);
  for (const file of sentinel.files) {
    const size = sizes.get(file.path);
    if (size === undefined) problems.push(`${file.path}: missing`);
    else if (size !== file.sizeBytes) problems.push(`${file.path}: size ${size}, sentinel says ${file.sizeBytes}`);
  }
  return problems;
}

/** What a compile must match on Modal: the marker at the kernels volume root names GPU, SM arch, image, revision. */
export interface RemoteKernelTarget {
  repo: string;
  gpuType: string;
  sglangImage: string;
  modelRevision?: string;
}

/** Judges the marker text `modal volume get` printed (null when absent) against a target. */
export function judgeRemoteMarker(
  text: string | null,
  target: RemoteKernelTarget,
  where: { path: string; markerPath: string },
): KernelCacheStatus {
  if (text === null) {
    return { ...where, state: 'missing', reasons: [`no marker ${where.markerPath}: run compile_deepgemm`] };
  }
  const marker = parseMarker(text);
  if (marker === 'malformed') {
    return { ...where, state: 'stale', reasons: [`marker ${where.markerPath} is malformed: recompile`] };
  }
  // An empty revision means the weights' commit is not known yet: compare everything else.
  const revision = target.modelRevision || undefined;
  const smArch = lookupGpu(target.gpuType)?.smArch ?? 'unknown';
  const reasons = markerMismatches(marker, { ...target, modelRevision: revision }, smArch);
  return reasons.length === 0
    ? { ...where, state: 'valid', reasons, marker }
    : { ...where, state: 'stale', reasons, marker };
}
