import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { sha256File } from './file-digest';
import { missingIndexedShards } from './safetensors-index';

/** File name of the sentinel, written last into the weights folder. */
export const SENTINEL_FILE = '.glm-ops-download-complete.json';

/** One verified file recorded in the sentinel. */
export const SentinelFile = z.strictObject({
  path: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SentinelFile = z.infer<typeof SentinelFile>;

/** "Download complete" record: the repo, the commit it pinned, every file with size and sha256. */
export const DownloadSentinel = z.strictObject({
  schemaVersion: z.literal(1),
  repo: z.string().min(1),
  /** The revision the spec asked for (branch, tag or sha). */
  revision: z.string().min(1),
  /** The 40-hex commit the revision resolved to. */
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  files: z.array(SentinelFile).min(1),
  totalBytes: z.number().int().nonnegative(),
  completedAt: z.string().min(1),
});
export type DownloadSentinel = z.infer<typeof DownloadSentinel>;

/** What a weights folder holds according to its sentinel and the files on disk. */
export interface SentinelVerdict {
  state: 'valid' | 'missing' | 'partial' | 'corrupt';
  sentinel?: DownloadSentinel;
  problems: string[];
}

/** Options for {@link evaluateWeightsDir}. */
export interface EvaluateOptions {
  /** The repo and commit the caller expects; a sentinel for anything else is corrupt. */
  expected?: { repo: string; commit?: string };
  /** Re-hash every file instead of checking sizes only. */
  full?: boolean;
}

/**
 * Judges a weights folder: valid only when a well-formed sentinel matches the expected repo/commit and every
 * listed file exists with its size (and sha256 with `full`), and every shard the safetensors index names is listed.
 */
export async function evaluateWeightsDir(dir: string, options: EvaluateOptions = {}): Promise<SentinelVerdict> {
  const sentinelPath = path.join(dir, SENTINEL_FILE);
  let raw: string;
  try {
    raw = await fs.promises.readFile(sentinelPath, 'utf8');
  } catch {
    const entries = await fs.promises.readdir(dir).catch(() => [] as string[]);
    return entries.length === 0
      ? { state: 'missing', problems: [] }
      : { state: 'partial', problems: [`no sentinel ${SENTINEL_FILE}: the download did not finish`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { state: 'corrupt', problems: [`sentinel ${SENTINEL_FILE} is not valid JSON`] };
  }
  const parsed = DownloadSentinel.safeParse(json);
  if (!parsed.success) {
    return { state: 'corrupt', problems: [`sentinel ${SENTINEL_FILE} is malformed: ${z.prettifyError(parsed.error)}`] };
  }
  const sentinel = parsed.data;
  const problems: string[] = [];
  if (options.expected && sentinel.repo !== options.expected.repo) {
    problems.push(`sentinel names repo "${sentinel.repo}", expected "${options.expected.repo}"`);
  }
  if (options.expected?.commit && sentinel.commit !== options.expected.commit) {
    problems.push(`sentinel names commit ${sentinel.commit}, expected ${options.expected.commit}`);
  }
  const listedTotal = sentinel.files.reduce((sum, file) => sum + file.sizeBytes, 0);
  if (listedTotal !== sentinel.totalBytes)
    problems.push(`sentinel totalBytes ${sentinel.totalBytes} != sum of file sizes ${listedTotal}`);
  for (const file of sentinel.files) {
    if (!isInside(dir, file.path)) {
      problems.push(`sentinel lists "${file.path}" outside the weights folder`);
      continue;
    }
    const filePath = path.join(dir, file.path);
    const stat = await fs.promises.stat(filePath).catch(() => undefined);
    if (!stat?.isFile()) {
      problems.push(`${file.path}: missing`);
    } else if (stat.size !== file.sizeBytes) {
      problems.push(`${file.path}: size ${stat.size}, sentinel says ${file.sizeBytes}`);
    } else if (options.full && (await sha256File(filePath)) !== file.sha256) {
      problems.push(`${file.path}: sha256 differs from the sentinel`);
    }
  }
  const listed = new Set(sentinel.files.map((file) => file.path));
  const missingShards = await missingIndexedShards(dir, (shard) => listed.has(shard));
  problems.push(
    ...missingShards.map((shard) => `model.safetensors.index.json references ${shard}, which is not in the download`),
  );
  return { state: problems.length === 0 ? 'valid' : 'corrupt', sentinel, problems };
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
