import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { ProgressMeter, type TransferProgressCallback } from './download-progress';
import { sha256File } from './file-digest';
import { FileStamp, isSameStamp, stampDifferences, statStamp, type CtimeVoucher, type TouchReason } from './file-stamp';
import { missingIndexedShards } from './safetensors-index';

/** File name of the sentinel, written last into the weights folder. */
export const SENTINEL_FILE = '.glm-ops-download-complete.json';

/** One verified file as schema 1 recorded it: path, size and sha256 (no stamp, so a touch cannot be seen). */
export const LegacySentinelFile = z.strictObject({
  path: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type LegacySentinelFile = z.infer<typeof LegacySentinelFile>;

/** One verified file: size, sha256, and the stamp it had when hashed (so a later touch forces a re-hash). */
export const SentinelFile = LegacySentinelFile.extend({ stamp: FileStamp });
export type SentinelFile = z.infer<typeof SentinelFile>;

const sentinelFields = {
  repo: z.string().min(1),
  /** The revision the spec asked for (branch, tag or sha). */
  revision: z.string().min(1),
  /** The 40-hex commit the revision resolved to. */
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  totalBytes: z.number().int().nonnegative(),
  completedAt: z.string().min(1),
};

/**
 * "Download complete" record: the repo, the commit it pinned, every file with size, sha256 and stamp. Schema 1
 * (written before stamps existed) is still read; every file it lists counts as touched and is re-hashed.
 */
export const DownloadSentinel = z.discriminatedUnion('schemaVersion', [
  z.strictObject({ schemaVersion: z.literal(2), ...sentinelFields, files: z.array(SentinelFile).min(1) }),
  z.strictObject({ schemaVersion: z.literal(1), ...sentinelFields, files: z.array(LegacySentinelFile).min(1) }),
]);
export type DownloadSentinel = z.infer<typeof DownloadSentinel>;

/** A sentinel as glm-ops writes it now (schema 2, every file stamped). */
export type StampedSentinel = Extract<DownloadSentinel, { schemaVersion: 2 }>;

/** One file whose sha256 was taken again, and why. */
export interface RehashedFile {
  path: string;
  /** What changed since the sentinel (or `full-check` / `legacy-sentinel`). */
  reasons: TouchReason[];
  /** True when the bytes still hash to the sentinel's sha256 (and the file held still while hashed). */
  isMatch: boolean;
}

/** A file whose bytes are the sentinel's, with the stamp it had when that was established. */
export interface TrustedFile {
  path: string;
  sha256: string;
  stamp: FileStamp;
}

/** What a weights folder holds according to its sentinel and the files on disk. */
export interface SentinelVerdict {
  state: 'valid' | 'missing' | 'partial' | 'corrupt';
  sentinel?: DownloadSentinel;
  problems: string[];
  /** Files hashed by this check: exactly those touched since the sentinel, or all of them with `full`. */
  rehashed: RehashedFile[];
  /** Files that still hold the bytes the sentinel vouches for (stamp unchanged, or re-hashed and equal). */
  trusted: TrustedFile[];
}

/** Options for {@link evaluateWeightsDir}. */
export interface EvaluateOptions {
  /** The repo and commit the caller expects; a sentinel for anything else is corrupt. */
  expected?: { repo: string; commit?: string };
  /** Re-hash every file, not only the ones touched since the sentinel. */
  full?: boolean;
  /** The volume's word that a ctime change came from its own commit (local volumes hard-link on commit). */
  ctimeVoucher?: CtimeVoucher;
  /** Hears the bytes hashed, so a long re-hash can heartbeat. */
  onProgress?: TransferProgressCallback;
}

/**
 * Judges a weights folder: valid only when a well-formed sentinel matches the expected repo/commit, every listed file
 * exists with its size, every file touched since the sentinel (stamp changed, or a schema-1 sentinel without stamps)
 * still hashes to its sha256 (every file with `full`), and every shard the safetensors index names is listed.
 */
export async function evaluateWeightsDir(dir: string, options: EvaluateOptions = {}): Promise<SentinelVerdict> {
  const sentinelPath = path.join(dir, SENTINEL_FILE);
  let raw: string;
  try {
    raw = await fs.promises.readFile(sentinelPath, 'utf8');
  } catch {
    const entries = await fs.promises.readdir(dir).catch(() => [] as string[]);
    return entries.length === 0
      ? { state: 'missing', problems: [], rehashed: [], trusted: [] }
      : {
          state: 'partial',
          problems: [`no sentinel ${SENTINEL_FILE}: the download did not finish`],
          rehashed: [],
          trusted: [],
        };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { state: 'corrupt', problems: [`sentinel ${SENTINEL_FILE} is not valid JSON`], rehashed: [], trusted: [] };
  }
  const parsed = DownloadSentinel.safeParse(json);
  if (!parsed.success) {
    return {
      state: 'corrupt',
      problems: [`sentinel ${SENTINEL_FILE} is malformed: ${z.prettifyError(parsed.error)}`],
      rehashed: [],
      trusted: [],
    };
  }
  const sentinel = parsed.data;
  const problems: string[] = [];
  const rehashed: RehashedFile[] = [];
  const trusted: TrustedFile[] = [];
  if (options.expected && sentinel.repo !== options.expected.repo) {
    problems.push(`sentinel names repo "${sentinel.repo}", expected "${options.expected.repo}"`);
  }
  if (options.expected?.commit && sentinel.commit !== options.expected.commit) {
    problems.push(`sentinel names commit ${sentinel.commit}, expected ${options.expected.commit}`);
  }
  const listedTotal = sentinel.files.reduce((sum, file) => sum + file.sizeBytes, 0);
  if (listedTotal !== sentinel.totalBytes)
    problems.push(`sentinel totalBytes ${sentinel.totalBytes} != sum of file sizes ${listedTotal}`);
  const toHash: Array<{ file: SentinelFile | LegacySentinelFile; stamp: FileStamp; reasons: TouchReason[] }> = [];
  for (const file of sentinel.files) {
    if (!isInside(dir, file.path)) {
      problems.push(`sentinel lists "${file.path}" outside the weights folder`);
      continue;
    }
    const current = await statStamp(path.join(dir, file.path));
    if (!current) {
      problems.push(`${file.path}: missing`);
      continue;
    }
    if (current.sizeBytes !== file.sizeBytes) {
      problems.push(`${file.path}: size ${current.sizeBytes}, sentinel says ${file.sizeBytes}`);
      continue;
    }
    const reasons: TouchReason[] =
      'stamp' in file ? stampDifferences(file.stamp, current.stamp, options.ctimeVoucher) : ['legacy-sentinel'];
    if (options.full && reasons.length === 0) reasons.push('full-check');
    if (reasons.length === 0) trusted.push({ path: file.path, sha256: file.sha256, stamp: current.stamp });
    else toHash.push({ file, stamp: current.stamp, reasons });
  }
  const meter = new ProgressMeter(
    'verify',
    toHash.reduce((sum, entry) => sum + entry.file.sizeBytes, 0),
    toHash.length,
    options.onProgress,
  );
  for (const { file, stamp, reasons } of toHash) {
    const filePath = path.join(dir, file.path);
    const digest = await sha256File(filePath, (bytes) => meter.addBytes(bytes));
    meter.fileDone();
    const after = await statStamp(filePath);
    // A file written to while it was read may hash to anything: never call it good.
    const isSteady = after !== undefined && isSameStamp(stamp, after.stamp);
    const isMatch = isSteady && digest === file.sha256;
    rehashed.push({ path: file.path, reasons, isMatch });
    if (isMatch) trusted.push({ path: file.path, sha256: file.sha256, stamp });
    else if (!isSteady) problems.push(`${file.path}: changed while it was being hashed`);
    else problems.push(`${file.path}: sha256 differs from the sentinel (${touchText(reasons)})`);
  }
  if (toHash.length > 0) meter.flush();
  const listed = new Set(sentinel.files.map((file) => file.path));
  const missingShards = await missingIndexedShards(dir, (shard) => listed.has(shard));
  problems.push(
    ...missingShards.map((shard) => `model.safetensors.index.json references ${shard}, which is not in the download`),
  );
  return { state: problems.length === 0 ? 'valid' : 'corrupt', sentinel, problems, rehashed, trusted };
}

/** One phrase for why a file was re-hashed: "ctime changed since the sentinel", "full check", "legacy sentinel". */
export function touchText(reasons: readonly TouchReason[]): string {
  const changed = reasons.filter((reason) => reason === 'mtime' || reason === 'ctime' || reason === 'inode');
  const parts = changed.length > 0 ? [`${changed.join(', ')} changed since the sentinel`] : [];
  if (reasons.includes('legacy-sentinel')) parts.push('schema-1 sentinel without stamps');
  if (reasons.includes('full-check')) parts.push('full check');
  return parts.join('; ');
}

/** Writes the sentinel through a temp file and a rename, so readers see all of it or none. */
export async function writeSentinel(dir: string, sentinel: DownloadSentinel): Promise<string> {
  const target = path.join(dir, SENTINEL_FILE);
  const temp = `${target}.tmp-${process.pid}`;
  const handle = await fs.promises.open(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(DownloadSentinel.parse(sentinel), null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, target);
  return target;
}

/** Deletes the sentinel first, so that a repair interrupted later never leaves a sentinel that lies. */
export async function removeSentinel(dir: string): Promise<void> {
  await fs.promises.rm(path.join(dir, SENTINEL_FILE), { force: true });
}

function isInside(dir: string, relative: string): boolean {
  const resolved = path.resolve(dir, relative);
  return resolved.startsWith(path.resolve(dir) + path.sep);
}
