import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';

/** Streams a file (or its first `lengthBytes`) into `hash`, so a resumed download hashes its prefix once. */
export async function hashFileInto(
  hash: Hash,
  filePath: string,
  lengthBytes?: number,
  onBytes?: (bytes: number) => void,
): Promise<number> {
  if (lengthBytes === 0) return 0;
  let bytes = 0;
  const stream = fs.createReadStream(filePath, {
    highWaterMark: 1 << 20,
    ...(lengthBytes !== undefined ? { end: lengthBytes - 1 } : {}),
  });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes?.((chunk as Buffer).length);
  }
  return bytes;
}

/** The hex sha256 of a whole file; `onBytes` hears each chunk read, so a long hash can heartbeat. */
export async function sha256File(filePath: string, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(hash, filePath, undefined, onBytes);
  return hash.digest('hex');
}
