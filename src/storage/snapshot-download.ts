import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendJournal, readJournal, removeJournal } from './download-journal';
import { ProgressMeter, type TransferProgressCallback } from './download-progress';
import {
  evaluateWeightsDir,
  removeSentinel,
  SENTINEL_FILE,
  writeSentinel,
  type RehashedFile,
  type SentinelVerdict,
  type StampedSentinel,
} from './download-sentinel';
import { DEFAULT_RETRY_POLICY, downloadFile, type FileRetryPolicy, type FileTask } from './file-download';
import { sha256File } from './file-digest';
import { statStamp, type CtimeVoucher, type FileStamp } from './file-stamp';
import { fetchModelInfo, type HubConnection } from './hub-api-client';
import { missingIndexedShards } from './safetensors-index';
import { DiskFullError, StorageAbortedError, WeightsCorruptError, isDiskFullErrno } from './storage-errors';

/** Inputs of {@link downloadSnapshot}. */
export interface SnapshotDownloadOptions {
  connection: HubConnection;
  repo: string;
  /** Branch, tag or commit; pinned to the commit sha the hub reports. */
  revision: string;
  /** The folder for a resolved commit (the layout keys weights by repo and commit). */
  dirFor: (commit: string) => string;
  /** Files fetched at once. @default 8 */
  concurrency?: number;
  retry?: Partial<FileRetryPolicy>;
  onProgress?: TransferProgressCallback;
  signal?: AbortSignal;
  /** Refuse to start when the filesystem has less free space than the bytes still missing. @default true */
  shouldPreflightSpace?: boolean;
  /** The volume's word for ctime changes its own commits caused (see {@link CtimeVoucher}). */
  ctimeVoucher?: CtimeVoucher;
}

/** What {@link downloadSnapshot} did. */
export interface SnapshotDownloadResult {
  dir: string;
  commit: string;
  sentinel: StampedSentinel;
  /** True when a valid sentinel made every transfer unnecessary. */
  skipped: boolean;
  /** Files re-hashed against the sentinel because they were touched since it was written (or it had no stamps). */
  rehashed: RehashedFile[];
  /** Files fetched again because they no longer held the bytes the sentinel vouched for. */
  filesRepaired: string[];
  bytesDownloaded: number;
  filesDownloaded: number;
  /** Files whose first request resumed a partial file. */
  filesResumed: number;
  /** Files found complete on disk (journal or re-hash) and kept. */
  filesKept: number;
  durationMs: number;
}

/**
 * Download-with-sentinel: pins the revision to a commit and skips when the sentinel is valid — sizes checked, and
 * every file touched since the sentinel (its stamp changed) re-hashed, so a stale sentinel never vouches for bytes
 * that changed under it. Otherwise fetches the missing and bad files with bounded parallelism (resuming partial
 * ones), keeping the files the check proved good, verifies each, checks the safetensors index, and writes the
 * sentinel last. Any failure leaves no sentinel.
 */
export async function downloadSnapshot(options: SnapshotDownloadOptions): Promise<SnapshotDownloadResult> {
  const startedMs = Date.now();
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const info = await fetchModelInfo(options.connection, options.repo, options.revision, {
    signal: options.signal,
    maxBackoffMs: retry.maxBackoffMs,
  });
  const dir = options.dirFor(info.sha);
  await fs.promises.mkdir(dir, { recursive: true });
  const verdict = await evaluateWeightsDir(dir, {
    expected: { repo: options.repo, commit: info.sha },
    ...(options.ctimeVoucher ? { ctimeVoucher: options.ctimeVoucher } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (verdict.state === 'valid' && verdict.sentinel) {
    const sentinel = await refreshedSentinel(dir, verdict);
    return {
      dir,
      commit: info.sha,
      sentinel,
      skipped: true,
      rehashed: verdict.rehashed,
      filesRepaired: [],
      bytesDownloaded: 0,
      filesDownloaded: 0,
      filesResumed: 0,
      filesKept: sentinel.files.length,
      durationMs: Date.now() - startedMs,
    };
  }
  await removeSentinel(dir);

  const plan: FileTask[] = info.siblings.map((sibling) => ({
    path: sibling.rfilename,
    sizeBytes: sibling.lfs?.size ?? sibling.size ?? 0,
    ...(sibling.lfs ? { lfsSha256: sibling.lfs.sha256 } : {}),
  }));
  const bytesTotal = plan.reduce((sum, task) => sum + task.sizeBytes, 0);
  const meter = new ProgressMeter('download', bytesTotal, plan.length, options.onProgress);
  const verified = new Map<string, VerifiedFile>();
  const pending = await findPendingFiles(
    dir,
    plan,
    verified,
    meter,
    trustedBySentinel(verdict, options.repo, info.sha),
  );
  if (options.shouldPreflightSpace !== false) await preflightSpace(dir, pending);

  const controller = new AbortController();
  // Every in-flight request and pipeline listens on this one signal.
  setMaxListeners(Math.max(64, (options.concurrency ?? 8) * 4), controller.signal);
  const onOuterAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let bytesDownloaded = 0;
  let filesResumed = 0;
  let firstError: unknown;
  const queue = [...pending];
  const worker = async (): Promise<void> => {
    for (let task = queue.shift(); task && firstError === undefined; task = queue.shift()) {
      try {
        const result = await downloadFile({
          connection: options.connection,
          repo: options.repo,
          commit: info.sha,
          dir,
          task,
          meter,
          retry,
          signal: controller.signal,
        });
        bytesDownloaded += result.bytesTransferred;
        if (result.resumedFromBytes > 0) filesResumed += 1;
        const stat = await fs.promises.stat(path.join(dir, task.path));
        const stamped = await statStamp(path.join(dir, task.path));
        verified.set(task.path, { sha256: result.sha256, ...(stamped ? { stamp: stamped.stamp } : {}) });
        await appendJournal(dir, {
          path: task.path,
          sizeBytes: stat.size,
          sha256: result.sha256,
          mtimeMs: stat.mtimeMs,
        });
        meter.fileDone();
      } catch (err) {
        if (firstError === undefined) firstError = isDiskFullErrno(err) ? new DiskFullError(dir, task.path) : err;
        controller.abort(firstError);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, pending.length)) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (options.signal?.aborted) throw new StorageAbortedError(`download of ${options.repo}@${info.sha}`);
  if (firstError !== undefined) throw firstError;

  const listed = new Set(plan.map((task) => task.path));
  const missingShards = await missingIndexedShards(dir, (shard) => listed.has(shard) && verified.has(shard));
  if (missingShards.length > 0) {
    throw new WeightsCorruptError(
      'model.safetensors.index.json',
      1,
      `references shards the repo does not hold: ${missingShards.join(', ')}`,
    );
  }
  const files = [];
  for (const task of plan) {
    const { sha256, stamp } = verified.get(task.path)!;
    // A stamp taken when the file was verified: any touch after that shows at the next check.
    const fileStamp = stamp ?? (await statStamp(path.join(dir, task.path)))?.stamp;
    if (!fileStamp) throw new WeightsCorruptError(task.path, 1, 'vanished after it was verified');
    files.push({ path: task.path, sizeBytes: task.sizeBytes, sha256, stamp: fileStamp });
  }
  const sentinel: StampedSentinel = {
    schemaVersion: 2,
    repo: options.repo,
    revision: options.revision,
    commit: info.sha,
    files,
    totalBytes: bytesTotal,
    completedAt: new Date().toISOString(),
  };
  try {
    await writeSentinel(dir, sentinel);
  } catch (err) {
    throw isDiskFullErrno(err) ? new DiskFullError(dir, SENTINEL_FILE) : err;
  }
  await removeJournal(dir);
  meter.flush();
  return {
    dir,
    commit: info.sha,
    sentinel,
    skipped: false,
    rehashed: verdict.rehashed,
    filesRepaired: verdict.rehashed.filter((file) => !file.isMatch).map((file) => file.path),
    bytesDownloaded,
    filesDownloaded: pending.length,
    filesResumed,
    filesKept: plan.length - pending.length,
    durationMs: Date.now() - startedMs,
  };
}

/** A file known to hold the right bytes: its sha256 and, when known, the stamp it had then. */
interface VerifiedFile {
  sha256: string;
  stamp?: FileStamp;
}

/**
 * Splits the plan into files still to fetch and files already complete: a file the sentinel check just proved good
 * (same sha256 as the hub lists) is kept; a journal entry with the same size and mtime is trusted; other
 * complete-looking LFS files are re-hashed; non-LFS files (small) are fetched again.
 */
async function findPendingFiles(
  dir: string,
  plan: FileTask[],
  verified: Map<string, VerifiedFile>,
  meter: ProgressMeter,
  trusted: Map<string, VerifiedFile>,
): Promise<FileTask[]> {
  const journal = await readJournal(dir);
  const pending: FileTask[] = [];
  for (const task of plan) {
    const filePath = path.join(dir, task.path);
    const stat = await fs.promises.stat(filePath).catch(() => undefined);
    const known = trusted.get(task.path);
    if (stat?.isFile() && stat.size === task.sizeBytes) {
      const entry = journal.get(task.path);
      if (known && (!task.lfsSha256 || known.sha256 === task.lfsSha256)) {
        verified.set(task.path, known);
      } else if (
        entry &&
        entry.sizeBytes === stat.size &&
        entry.mtimeMs === stat.mtimeMs &&
        (!task.lfsSha256 || entry.sha256 === task.lfsSha256)
      ) {
        verified.set(task.path, { sha256: entry.sha256 });
      } else if (task.lfsSha256) {
        const before = await statStamp(filePath);
        if ((await sha256File(filePath)) === task.lfsSha256) {
          verified.set(task.path, { sha256: task.lfsSha256, ...(before ? { stamp: before.stamp } : {}) });
        }
      }
    }
    if (verified.has(task.path)) {
      meter.addExisting(task.sizeBytes);
      meter.fileDone();
      continue;
    }
    if (stat) await fs.promises.rm(filePath, { force: true });
    pending.push(task);
  }
  return pending;
}

/** The files a sentinel of the right repo and commit still vouches for, after its check. */
function trustedBySentinel(verdict: SentinelVerdict, repo: string, commit: string): Map<string, VerifiedFile> {
  if (verdict.sentinel?.repo !== repo || verdict.sentinel.commit !== commit) return new Map();
  return new Map(verdict.trusted.map((file) => [file.path, { sha256: file.sha256, stamp: file.stamp }]));
}

/**
 * The sentinel of a valid folder with the stamps it holds now: files re-hashed because they were touched (or because
 * a schema-1 sentinel had no stamps) get the stamp they had while hashed, so the next check need not hash them again.
 * Rewritten only when something was re-hashed.
 */
async function refreshedSentinel(dir: string, verdict: SentinelVerdict): Promise<StampedSentinel> {
  const sentinel = verdict.sentinel!;
  const stamps = new Map(verdict.trusted.map((file) => [file.path, file.stamp]));
  const refreshed: StampedSentinel = {
    ...sentinel,
    schemaVersion: 2,
    files: sentinel.files.map((file) => ({
      path: file.path,
      sizeBytes: file.sizeBytes,
      sha256: file.sha256,
      stamp: stamps.get(file.path)!,
    })),
  };
  if (verdict.rehashed.length > 0) await writeSentinel(dir, refreshed);
  return refreshed;
}

async function preflightSpace(dir: string, pending: FileTask[]): Promise<void> {
  let neededBytes = 0;
  for (const task of pending) {
    const partial = await fs.promises.stat(path.join(dir, task.path) + '.incomplete').catch(() => undefined);
    neededBytes += Math.max(0, task.sizeBytes - (partial?.size ?? 0));
  }
  const stats = await fs.promises.statfs(dir);
  const freeBytes = stats.bavail * stats.bsize;
  if (neededBytes > freeBytes) {
    const error = new DiskFullError(dir, `${pending.length} files`);
    error.message = `the volume at ${dir} has ${freeBytes} bytes free but the download still needs ${neededBytes}: free space or grow the volume, then re-run (partial files resume)`;
    throw error;
  }
}
