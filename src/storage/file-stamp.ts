import * as fs from 'node:fs';
import * as z from 'zod';

/** Nanosecond times and inode numbers exceed 2^53, so they travel as decimal strings (Python writes the same). */
const Decimal = z.string().regex(/^\d+$/, 'must be a decimal integer string');

/**
 * What a file looked like when its sha256 was taken: mtime and ctime in nanoseconds and the inode. Any write changes
 * mtime and ctime; restoring mtime (`touch -d`, `os.utime`) sets ctime to now, which no user can set back; replacing
 * the file (write + rename) gives it a new inode. So a file whose stamp (and size) still match was not touched since.
 */
export const FileStamp = z.strictObject({ mtimeNs: Decimal, ctimeNs: Decimal, ino: Decimal });
export type FileStamp = z.infer<typeof FileStamp>;

/** Why a file counts as touched since its stamp was taken; `legacy-sentinel` and `full-check` are set by callers. */
export type TouchReason = 'mtime' | 'ctime' | 'inode' | 'legacy-sentinel' | 'full-check';

/**
 * Says that a ctime change came from the volume itself (a commit hard-links every file, which sets ctime without
 * touching the bytes). Called only when size, mtime and inode all still match.
 */
export type CtimeVoucher = (ino: string, recordedCtimeNs: string, currentCtimeNs: string) => boolean;

/** The stamp of a file from a bigint stat. */
export function stampOfStats(stats: fs.BigIntStats): FileStamp {
  return { mtimeNs: stats.mtimeNs.toString(), ctimeNs: stats.ctimeNs.toString(), ino: stats.ino.toString() };
}

/** Stats a file with nanosecond precision; undefined when it does not exist. */
export async function statStamp(filePath: string): Promise<{ sizeBytes: number; stamp: FileStamp } | undefined> {
  const stats = await fs.promises.stat(filePath, { bigint: true }).catch(() => undefined);
  if (!stats?.isFile()) return undefined;
  return { sizeBytes: Number(stats.size), stamp: stampOfStats(stats) };
}

/** The ways `current` differs from `recorded`, in a fixed order (empty when the file was not touched). */
export function stampDifferences(recorded: FileStamp, current: FileStamp, voucher?: CtimeVoucher): TouchReason[] {
  const reasons: TouchReason[] = [];
  if (recorded.mtimeNs !== current.mtimeNs) reasons.push('mtime');
  const isInodeSame = recorded.ino === current.ino;
  if (
    recorded.ctimeNs !== current.ctimeNs &&
    !(reasons.length === 0 && isInodeSame && voucher?.(current.ino, recorded.ctimeNs, current.ctimeNs))
  ) {
    reasons.push('ctime');
  }
  if (!isInodeSame) reasons.push('inode');
  return reasons;
}

/** True when two stamps are identical (nothing happened to the file in between). */
export function isSameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}
