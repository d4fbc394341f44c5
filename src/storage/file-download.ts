import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import type { ProgressMeter } from './download-progress';
import { hubHeaders, resolveUrl, retryAfterMs, sleepMs, type HubConnection } from './hub-api-client';
import {
  DiskFullError,
  HubTransportError,
  StorageAbortedError,
  WeightsCorruptError,
  WeightsNotFoundError,
  isDiskFullErrno,
} from './storage-errors';

/** Suffix of a file still being downloaded; its length is the resume offset. */
export const INCOMPLETE_SUFFIX = '.incomplete';

/** One file to fetch: its repo path, size, and the LFS sha256 when the hub lists one. */
export interface FileTask {
  path: string;
  sizeBytes: number;
  lfsSha256?: string;
}

/** Retry settings for one file. */
export interface FileRetryPolicy {
  /** Full re-fetches allowed after a size or hash mismatch. @default 3 */
  corruptAttempts: number;
  /** Consecutive transport failures without progress before giving up. @default 8 */
  transportAttempts: number;
  /** First backoff; doubles per failure. @default 200 */
  baseBackoffMs: number;
  /** Cap on one wait, Retry-After included. @default 10000 */
  maxBackoffMs: number;
}

/** Defaults for {@link FileRetryPolicy}. */
export const DEFAULT_RETRY_POLICY: FileRetryPolicy = {
  corruptAttempts: 3,
  transportAttempts: 8,
  baseBackoffMs: 200,
  maxBackoffMs: 10_000,
};

/** What one file download did. */
export interface FileDownloadResult {
  sha256: string;
  /** Bytes moved over the network for this file, all attempts together. */
  bytesTransferred: number;
  /** The largest offset a Range request resumed from (0 when every request started at zero). */
  resumedFromBytes: number;
}

/** Everything {@link downloadFile} needs. */
export interface DownloadFileOptions {
  connection: HubConnection;
  repo: string;
  commit: string;
  dir: string;
  task: FileTask;
  meter: ProgressMeter;
  retry: FileRetryPolicy;
  signal?: AbortSignal;
}

/**
 * Fetches one file into `<dir>/<path>.incomplete`, resuming from its length with a Range request, verifies size
 * and sha256 (or the git blob id in the ETag for non-LFS files), then renames it into place. A mismatch deletes
 * the partial file and fetches again from zero; ENOSPC raises {@link DiskFullError} at once.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<FileDownloadResult> {
  const { task, dir, meter, retry, signal } = options;
  const finalPath = path.join(dir, task.path);
  const partialPath = finalPath + INCOMPLETE_SUFFIX;
  await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
  const url = resolveUrl(options.connection, options.repo, options.commit, task.path);
  let bytesTransferred = 0;
  let resumedFromBytes = 0;
  let corruptFailures = 0;
  let transportFailures = 0;
  let etag: string | undefined;
  for (;;) {
    if (signal?.aborted) throw new StorageAbortedError(`download of ${task.path}`);
    let offset = await fileSize(partialPath);
    if (offset > task.sizeBytes) {
      await fs.promises.rm(partialPath, { force: true });
      offset = 0;
    }
    resumedFromBytes = Math.max(resumedFromBytes, offset);
    const digests = await prefixDigests(partialPath, offset, task.sizeBytes, !task.lfsSha256);
    let waitMs: number | undefined;
    let madeProgress = false;
    if (offset < task.sizeBytes || task.sizeBytes === 0) {
      try {
        const response = await request(url, {
          headers: hubHeaders(options.connection, offset > 0 ? { range: `bytes=${offset}-` } : {}),
          signal,
        });
        etag = headerValue(response.headers.etag) ?? etag;
        if (response.statusCode === 200 || response.statusCode === 206) {
          let writeFrom = offset;
          if (response.statusCode === 200 && offset > 0) {
            writeFrom = 0;
            digests.reset(task.sizeBytes);
          } else if (
            response.statusCode === 206 &&
            !contentRangeStartsAt(headerValue(response.headers['content-range']), offset)
          ) {
            response.body.destroy();
            throw new HubTransportError(url, `Content-Range does not start at ${offset}`, 206);
          }
          const counter = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              digests.update(chunk);
              meter.addBytes(chunk.length);
              bytesTransferred += chunk.length;
              madeProgress = true;
              callback(null, chunk);
            },
          });
          await pipeline(
            response.body,
            counter,
            fs.createWriteStream(partialPath, { flags: writeFrom > 0 ? 'a' : 'w', highWaterMark: 4 << 20 }),
            signal ? { signal } : {},
          );
        } else {
          const status = response.statusCode;
          waitMs = retryAfterMs(response.headers['retry-after']);
          await response.body.dump().catch(() => undefined);
          if (status === 404 || status === 401 || status === 403) {
            throw new WeightsNotFoundError(options.repo, options.commit, status, `file "${task.path}"`);
          }
          if (status === 416) {
            await fs.promises.rm(partialPath, { force: true });
            continue;
          }
          throw new HubTransportError(url, `HTTP ${status}`, status);
        }
      } catch (err) {
        if (err instanceof WeightsNotFoundError) throw err;
        if (isDiskFullErrno(err)) throw new DiskFullError(dir, task.path);
        if (signal?.aborted) throw new StorageAbortedError(`download of ${task.path}`);
        transportFailures = madeProgress ? 1 : transportFailures + 1;
        if (transportFailures >= retry.transportAttempts) {
          throw err instanceof HubTransportError ? err : new HubTransportError(url, (err as Error).message);
        }
        const backoffMs = Math.min(retry.maxBackoffMs, waitMs ?? retry.baseBackoffMs * 2 ** (transportFailures - 1));
        await sleepMs(backoffMs, signal).catch(() => undefined);
        continue;
      }
    }
    const size = await fileSize(partialPath);
    const mismatch = verifyDigests(task, size, digests, etag);
    if (mismatch) {
      corruptFailures += 1;
      meter.subtractBytes(size);
      await fs.promises.rm(partialPath, { force: true });
      if (corruptFailures >= retry.corruptAttempts) throw new WeightsCorruptError(task.path, corruptFailures, mismatch);
      continue;
    }
    await fs.promises.rename(partialPath, finalPath);
    return { sha256: digests.sha256Hex(), bytesTransferred, resumedFromBytes };
  }
}

/** Running sha256 and git-blob sha1 of a file being assembled. */
interface RunningDigests {
  update(chunk: Buffer): void;
  reset(sizeBytes: number): void;
  sha256Hex(): string;
  gitBlobHex(): string;
}

/** sha1 (git blob id) is only computed for non-LFS files: the Hub gives no sha256 for those. */
function newDigests(sizeBytes: number, shouldHashGitBlob: boolean): RunningDigests {
  let sha256: Hash = createHash('sha256');
  let sha1: Hash | undefined = shouldHashGitBlob ? createHash('sha1').update(`blob ${sizeBytes}\0`) : undefined;
  let sha256Hex: string | undefined;
  let sha1Hex: string | undefined;
  return {
    update(chunk) {
      sha256.update(chunk);
      sha1?.update(chunk);
    },
    reset(size) {
      sha256 = createHash('sha256');
      sha1 = sha1 ? createHash('sha1').update(`blob ${size}\0`) : undefined;
    },
    sha256Hex: () => (sha256Hex ??= sha256.digest('hex')),
    gitBlobHex: () => (sha1Hex ??= sha1?.digest('hex') ?? ''),
  };
}

async function prefixDigests(
  partialPath: string,
  offset: number,
  sizeBytes: number,
  shouldHashGitBlob: boolean,
): Promise<RunningDigests> {
  const digests = newDigests(sizeBytes, shouldHashGitBlob);
  if (offset > 0) {
    for await (const chunk of fs.createReadStream(partialPath, { end: offset - 1, highWaterMark: 1 << 20 })) {
      digests.update(chunk as Buffer);
    }
  }
  return digests;
}

function verifyDigests(
  task: FileTask,
  size: number,
  digests: RunningDigests,
  etag: string | undefined,
): string | undefined {
  if (size !== task.sizeBytes) return `size ${size}, hub lists ${task.sizeBytes}`;
  if (task.lfsSha256) {
    return digests.sha256Hex() === task.lfsSha256 ? undefined : "sha256 differs from the hub's LFS sha256";
  }
  const blobId = etag?.replace(/^W\//, '').replace(/"/g, '');
  if (blobId && /^[0-9a-f]{40}$/.test(blobId) && digests.gitBlobHex() !== blobId)
    return 'git blob id differs from the ETag';
  return undefined;
}

function contentRangeStartsAt(contentRange: string | undefined, offset: number): boolean {
  const match = /^bytes (\d+)-/.exec(contentRange ?? '');
  return match !== null && Number(match[1]) === offset;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function fileSize(filePath: string): Promise<number> {
  return (await fs.promises.stat(filePath).catch(() => undefined))?.size ?? 0;
}
