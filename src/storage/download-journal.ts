import * as fs from 'node:fs';
import * as path from 'node:path';

/** Journal of files already verified in an unfinished download, so a resumed run does not re-hash them. */
export const JOURNAL_FILE = '.glm-ops-download-journal.jsonl';

/** One verified file: trusted again only while its size and mtime are unchanged. */
export interface JournalEntry {
  path: string;
  sizeBytes: number;
  sha256: string;
  mtimeMs: number;
}

/** Reads the journal, keeping the last entry per path; a torn last line (killed mid-write) is ignored. */
export async function readJournal(dir: string): Promise<Map<string, JournalEntry>> {
  const entries = new Map<string, JournalEntry>();
  const raw = await fs.promises.readFile(path.join(dir, JOURNAL_FILE), 'utf8').catch(() => '');
  for (const line of raw.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as JournalEntry;
      if (typeof entry.path === 'string' && typeof entry.sha256 === 'string') entries.set(entry.path, entry);
    } catch {
      // A line cut by a kill is simply not trusted.
    }
  }
  return entries;
}

/** Appends one verified file to the journal. */
export async function appendJournal(dir: string, entry: JournalEntry): Promise<void> {
  await fs.promises.appendFile(path.join(dir, JOURNAL_FILE), `${JSON.stringify(entry)}\n`);
}

/** Removes the journal once the sentinel holds the same facts. */
export async function removeJournal(dir: string): Promise<void> {
  await fs.promises.rm(path.join(dir, JOURNAL_FILE), { force: true });
}
