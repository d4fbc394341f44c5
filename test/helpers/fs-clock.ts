import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Waits until the filesystem's clock (the ctime a fresh file gets in `dir`) is past `ctimeNs`, so that the next
 * change to a file is sure to give it a new ctime even where the kernel keeps coarse (tick-sized) timestamps.
 */
export async function waitForCtimePast(dir: string, ctimeNs: bigint): Promise<void> {
  const probe = path.join(dir, `.ctime-probe-${process.pid}`);
  try {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      fs.writeFileSync(probe, String(attempt));
      if (fs.statSync(probe, { bigint: true }).ctimeNs > ctimeNs) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`the filesystem clock in ${dir} never passed ctime ${ctimeNs}`);
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** Sets a file's mtime to exactly `mtimeNs` (Node's utimes takes float seconds and would lose the nanoseconds). */
export function setMtimeNs(filePath: string, mtimeNs: bigint): void {
  const text = mtimeNs.toString().padStart(10, '0');
  const result = spawnSync('touch', ['-m', '-d', `@${text.slice(0, -9)}.${text.slice(-9)}`, filePath]);
  if (result.status !== 0) throw new Error(`touch -d failed on ${filePath}: ${result.stderr.toString()}`);
}
