import type { Activities } from '../activities';

type WeightsOutcome = Awaited<ReturnType<Activities['ensureWeights']>>;

/**
 * The weights phase in one line, saying what the sentinel check re-hashed and why, so that a skip is never silent
 * about a file that changed under the sentinel: "sentinel valid (25 files; 1 touched since it was written
 * re-hashed and unchanged: model-00003 (ctime)), download skipped" or "… model-00003 re-downloaded: sha256 differed".
 */
export function weightsPhaseDetail(weights: WeightsOutcome): string {
  const rehashed = weights.status.rehashed ?? [];
  const repaired = weights.filesRepaired ?? [];
  const rehashNote =
    rehashed.length > 0
      ? `; re-hashed ${rehashed.length}: ${rehashed.map((file) => `${file.path} (${file.reasons.join(', ')})`).join(', ')}`
      : '';
  if (weights.skipped) {
    return `sentinel valid (${weights.status.fileCount} files${rehashNote}), download skipped; volume committed`;
  }
  const repairNote =
    repaired.length > 0 ? `; sha256 no longer matched the sentinel, re-downloaded: ${repaired.join(', ')}` : '';
  return (
    `downloaded ${weights.filesDownloaded} files (${formatBytes(weights.bytesDownloaded)})${rehashNote}${repairNote}; ` +
    'sentinel written; volume committed'
  );
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
