import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliEntry } from '../../src/config/paths';
import { REPO_ROOT } from './repo-files';

let checkedEntry: string | undefined;

/**
 * The compiled CLI (lib/cli/main.js), for tests that spawn glm-ops or start the platform daemon (whose engines run
 * from lib/). Tests never build lib/: scripts/setup.sh does (npm test runs it first), so a missing or stale build
 * fails here, saying what to run, rather than half-building it from a test or running yesterday's code.
 */
export function builtCliEntry(): string {
  if (checkedEntry) return checkedEntry;
  const entry = cliEntry();
  const fix = 'run `npm run setup` (it rebuilds lib/ when src/ changed)';
  if (!fs.existsSync(entry)) throw new Error(`lib/ is not built (${entry} is missing): ${fix}`);
  const stampFile = path.join(REPO_ROOT, 'lib', '.glm-ops-stamp');
  const built = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '(no stamp)';
  const sources = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'lib-stamp.sh')], { encoding: 'utf8' }).trim();
  if (built !== sources) {
    throw new Error(`lib/ is stale: it was built from sources ${built}, src/ is now ${sources}: ${fix}`);
  }
  checkedEntry = entry;
  return entry;
}
