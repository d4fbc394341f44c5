import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root, for examples/, fixtures and the project's own entry points. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Reads a file under the repository root. */
export function readRepoFile(relative: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}
