import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSpecText } from '../../src/spec/parse-spec';
import type { Spec } from '../../src/spec/schema';

/** The repository root, for examples/ and fixtures. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Reads a file under the repository root. */
export function readRepoFile(relative: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

/** Parses a spec file and fails the test with its issues when it does not parse. */
export function loadExampleSpec(relative: string): Spec {
  const parsed = parseSpecText(readRepoFile(relative));
  if (!parsed.ok) throw new Error(`${relative}: ${JSON.stringify(parsed.errors)}`);
  return parsed.spec;
}
