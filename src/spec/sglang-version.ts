import {
  compareVersions,
  flagTableFor,
  flagTableVersions,
  newestFlagTable,
  type SglangFlagTable,
} from './sglang-flags';

/**
 * The SGLang release an image tag names: `lmsysorg/sglang:v0.5.10` → 0.5.10, `v0.5.11-drill-oom` → 0.5.11,
 * `v0.5.10-cu129` → 0.5.10. A digest (`@sha256:...`), `latest` or a tag without a version gives undefined.
 */
export function sglangVersionFromImage(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon === -1) return undefined;
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?![\d])/.exec(withoutDigest.slice(colon + 1));
  return match ? `${Number(match[1])}.${Number(match[2])}.${Number(match[3])}` : undefined;
}

/** How the table for an image was chosen. */
export type FlagTableChoice =
  /** A table of exactly the image's version. */
  | 'exact'
  /** The newest table at or below the image's version (no table for that release). */
  | 'nearest-below'
  /** The image is older than every table: the oldest one is used. */
  | 'older-than-tables'
  /** The tag names no version (`latest`, a digest, a custom tag): the newest table is used. */
  | 'no-version';

/** The table a spec is checked against, and why that one. */
export interface ResolvedFlagTable {
  table: SglangFlagTable;
  /** The version the image tag names, when it names one. */
  imageVersion?: string;
  choice: FlagTableChoice;
  /** One sentence for reports: which table, and why. */
  note: string;
}

/** Chooses the flag table for an image tag: its version's, else the nearest at or below it, else the newest. */
export function resolveFlagTable(image: string): ResolvedFlagTable {
  const imageVersion = sglangVersionFromImage(image);
  if (imageVersion === undefined) {
    const table = newestFlagTable();
    return {
      table,
      choice: 'no-version',
      note: `image ${image} names no SGLang version (expected a tag like :v0.5.10): checked against the newest flag table, SGLang ${table.version}`,
    };
  }
  const versions = flagTableVersions();
  const atOrBelow = versions.filter((version) => compareVersions(version, imageVersion) <= 0);
  const nearestVersion = atOrBelow[atOrBelow.length - 1];
  const nearest = nearestVersion === undefined ? undefined : (flagTableFor(nearestVersion) as SglangFlagTable);
  if (nearest === undefined) {
    const oldest = flagTableFor(versions[0] as string) as SglangFlagTable;
    return {
      table: oldest,
      imageVersion,
      choice: 'older-than-tables',
      note: `SGLang ${imageVersion} is older than every flag table: checked against the oldest, SGLang ${oldest.version}`,
    };
  }
  if (nearest.version === imageVersion) {
    return {
      table: nearest,
      imageVersion,
      choice: 'exact',
      note: `checked against SGLang ${imageVersion}'s flag table`,
    };
  }
  return {
    table: nearest,
    imageVersion,
    choice: 'nearest-below',
    note: `no flag table for SGLang ${imageVersion}: checked against SGLang ${nearest.version}'s, the nearest at or below it (add one with scripts/extract-sglang-flags.py ${imageVersion})`,
  };
}

const resolvedByImage = new Map<string, ResolvedFlagTable>();

/** resolveFlagTable, remembered per image: every lint rule asks for the same one. */
export function flagTableForImage(image: string): ResolvedFlagTable {
  let resolved = resolvedByImage.get(image);
  if (!resolved) {
    resolved = resolveFlagTable(image);
    resolvedByImage.set(image, resolved);
  }
  return resolved;
}
