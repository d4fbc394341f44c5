import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { JOURNAL_FILE } from './download-journal';
import type { CtimeVoucher } from './file-stamp';

/** How many committed generations a volume keeps; older ones are pruned after a commit. */
export const KEPT_GENERATIONS = 8;

/** File at a volume's root: the ctime changes its own commits caused, per inode (see {@link LocalVolume.ctimeVoucher}). */
export const LINK_LEDGER_FILE = '.link-ledger.json';

/** ctimes kept per inode; a sentinel older than this many commits of its files costs one re-hash. */
const LEDGER_DEPTH = 64;

const LinkLedger = z.record(z.string().regex(/^\d+$/), z.array(z.string().regex(/^\d+$/)));
type LinkLedger = z.infer<typeof LinkLedger>;

/**
 * A local volume with Modal's consistency model: writers write into a staging tree; `commit()` publishes a new
 * immutable generation (hard links of the staging tree) by an atomic symlink swap; readers see the generation that
 * was current when they last reloaded. Layout: `<root>/staging/`, `<root>/generations/<n>/`, `<root>/current`.
 */
export class LocalVolume {
  /** Folder of this volume: `<volumesRoot>/<name>`. */
  readonly root: string;

  constructor(
    volumesRoot: string,
    readonly name: string,
  ) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new Error(`volume name "${name}" must hold only letters, digits, ".", "_", "-"`);
    }
    this.root = path.join(volumesRoot, name);
  }

  /** The writer's view: every write lands here and is invisible to readers until {@link commit}. */
  async stagingDir(): Promise<string> {
    await this.ensureCreated();
    return path.join(this.root, 'staging');
  }

  /** The committed generation readers get on reload (0 = the empty volume). */
  async currentGeneration(): Promise<number> {
    await this.ensureCreated();
    const target = await fs.promises.readlink(path.join(this.root, 'current'));
    return Number(path.basename(target));
  }

  /**
   * Publishes the staging tree as a new generation and swaps `current` to it atomically. Files are hard-linked,
   * so a commit costs one link per file; writers must replace files (write + rename), never modify them in place,
   * and `*.incomplete` download parts stay private to the writer.
   */
  async commit(): Promise<{ generation: number }> {
    await this.ensureCreated();
    return this.withLock(async () => {
      const staging = path.join(this.root, 'staging');
      const ctimesBefore = await ctimesOf(staging);
      const generationsDir = path.join(this.root, 'generations');
      const existing = await listGenerations(generationsDir);
      const generation = (existing.at(-1) ?? 0) + 1;
      const building = path.join(generationsDir, `.building-${generation}-${process.pid}`);
      await fs.promises.rm(building, { recursive: true, force: true });
      await linkTree(path.join(this.root, 'staging'), building);
      await fs.promises.rename(building, path.join(generationsDir, String(generation)));
      const link = path.join(this.root, `.current-${process.pid}`);
      await fs.promises.rm(link, { force: true });
      await fs.promises.symlink(path.join('generations', String(generation)), link);
      await fs.promises.rename(link, path.join(this.root, 'current'));
      for (const old of existing.slice(0, Math.max(0, existing.length + 1 - KEPT_GENERATIONS))) {
        if (old !== 0) await fs.promises.rm(path.join(generationsDir, String(old)), { recursive: true, force: true });
      }
      await this.recordLinks(ctimesBefore, await ctimesOf(staging));
      return { generation };
    });
  }

  /**
   * The volume's word for ctime changes it caused itself: a commit hard-links every staged file and prunes old links,
   * which sets each file's ctime without touching its bytes. True when both ctimes lie on one unbroken chain of this
   * volume's own link operations on that inode; a change by anyone else (a write, a restored mtime) breaks the chain.
   */
  async ctimeVoucher(): Promise<CtimeVoucher> {
    const ledger = await this.readLedger();
    return (ino, recordedCtimeNs, currentCtimeNs) => {
      const chain = ledger[ino] ?? [];
      return chain.includes(recordedCtimeNs) && chain.includes(currentCtimeNs);
    };
  }

  /** Opens a reader pinned to the current generation (like a container that mounted the volume now). */
  async openReader(): Promise<VolumeReader> {
    const reader = new VolumeReader(this);
    await reader.reload();
    return reader;
  }

  /** Creates staging, generation 0 and `current` on first use. */
  async ensureCreated(): Promise<void> {
    const current = path.join(this.root, 'current');
    if (await exists(current)) return;
    await fs.promises.mkdir(path.join(this.root, 'staging'), { recursive: true });
    await fs.promises.mkdir(path.join(this.root, 'generations', '0'), { recursive: true });
    const link = path.join(this.root, `.current-${process.pid}-init`);
    await fs.promises.rm(link, { force: true });
    await fs.promises.symlink(path.join('generations', '0'), link);
    if (!(await exists(current))) await fs.promises.rename(link, current);
    else await fs.promises.rm(link, { force: true });
  }

  /**
   * Extends each inode's chain with the ctime this commit left, when the ctime it found is the chain's last link
   * (nothing else touched the file since the previous commit); otherwise starts a new chain there. Inodes no longer
   * staged are dropped.
   */
  private async recordLinks(before: Map<string, string>, after: Map<string, string>): Promise<void> {
    const previous = await this.readLedger();
    const next: LinkLedger = {};
    for (const [ino, ctimeAfter] of after) {
      const ctimeBefore = before.get(ino);
      if (ctimeBefore === undefined) continue;
      const chain = previous[ino] ?? [];
      const base = chain.at(-1) === ctimeBefore ? chain : [ctimeBefore];
      next[ino] = [...new Set([...base, ctimeAfter])].slice(-LEDGER_DEPTH);
    }
    const target = path.join(this.root, LINK_LEDGER_FILE);
    const temp = `${target}.tmp-${process.pid}`;
    await fs.promises.writeFile(temp, JSON.stringify(next));
    await fs.promises.rename(temp, target);
  }

  private async readLedger(): Promise<LinkLedger> {
    const raw = await fs.promises.readFile(path.join(this.root, LINK_LEDGER_FILE), 'utf8').catch(() => '{}');
    try {
      const parsed = LinkLedger.safeParse(JSON.parse(raw));
      // A damaged ledger vouches for nothing: files are re-hashed, never trusted on its word.
      return parsed.success ? parsed.data : {};
    } catch {
      return {};
    }
  }

  /** Serialises commits across processes with an exclusive lock directory (stale after 60 s). */
  private async withLock<T>(action: () => Promise<T>): Promise<T> {
    const lock = path.join(this.root, '.commit-lock');
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.promises.mkdir(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const stat = await fs.promises.stat(lock).catch(() => undefined);
        if (stat && Date.now() - stat.mtimeMs > 60_000) await fs.promises.rm(lock, { recursive: true, force: true });
        if (attempt > 2000)
          throw new Error(`volume ${this.name}: commit lock ${lock} held too long; remove it if no commit is running`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      return await action();
    } finally {
      await fs.promises.rm(lock, { recursive: true, force: true });
    }
  }
}

/** A reader's view of a volume, pinned to one generation until {@link reload}. */
export class VolumeReader {
  private pinned = 0;

  constructor(private readonly volume: LocalVolume) {}

  /** The generation this reader sees. */
  get generation(): number {
    return this.pinned;
  }

  /** The root folder of this reader's view. */
  get root(): string {
    return path.join(this.volume.root, 'generations', String(this.pinned));
  }

  /** A path inside this reader's view. */
  path(...relative: string[]): string {
    return path.join(this.root, ...relative);
  }

  /** Moves the view to the latest committed generation (Modal's `Volume.reload()`). */
  async reload(): Promise<number> {
    this.pinned = await this.volume.currentGeneration();
    return this.pinned;
  }
}

async function listGenerations(dir: string): Promise<number[]> {
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  return names
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Recreates `source` under `target` with hard links for files; download parts are left out. */
async function linkTree(source: string, target: string): Promise<void> {
  await fs.promises.mkdir(target, { recursive: true });
  for (const entry of await fs.promises.readdir(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    if (entry.isDirectory()) await linkTree(from, to);
    else if (entry.isFile() && isPublishable(entry.name)) await fs.promises.link(from, to);
    else if (entry.isSymbolicLink()) await fs.promises.symlink(await fs.promises.readlink(from), to);
  }
}

/** ctime (ns) of every publishable file under `dir`, by inode. */
async function ctimesOf(dir: string): Promise<Map<string, string>> {
  const ctimes = new Map<string, string>();
  const entries = await fs.promises.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !isPublishable(entry.name)) continue;
    const stats = await fs.promises
      .stat(path.join(entry.parentPath, entry.name), { bigint: true })
      .catch(() => undefined);
    if (stats) ctimes.set(stats.ino.toString(), stats.ctimeNs.toString());
  }
  return ctimes;
}

async function exists(filePath: string): Promise<boolean> {
  return fs.promises.lstat(filePath).then(
    () => true,
    () => false,
  );
}

/** Writer-private files (download parts, journals, temp files) never enter a committed generation. */
function isPublishable(name: string): boolean {
  return !name.endsWith('.incomplete') && !name.includes('.tmp-') && name !== JOURNAL_FILE;
}
