import * as fs from 'node:fs';
import * as path from 'node:path';

/** Name of the index that maps every tensor to its shard file. */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** The shard files an index's `weight_map` references, deduplicated; null when there is no index. */
export async function indexedShards(dir: string): Promise<string[] | null> {
  let raw: string;
  try {
    raw = await fs.promises.readFile(path.join(dir, SAFETENSORS_INDEX_FILE), 'utf8');
  } catch {
    return null;
  }
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(raw) as { weight_map?: unknown }).weight_map;
  } catch {
    return ['<unreadable model.safetensors.index.json>'];
  }
  if (!weightMap || typeof weightMap !== 'object') return ['<model.safetensors.index.json without weight_map>'];
  return [...new Set(Object.values(weightMap as Record<string, unknown>).map(String))].sort();
}

/** Shards the index references that are not present (by the caller's rule: listed, or on disk). */
export async function missingIndexedShards(dir: string, isPresent: (shard: string) => boolean): Promise<string[]> {
  const shards = await indexedShards(dir);
  return shards ? shards.filter((shard) => !isPresent(shard)) : [];
}
