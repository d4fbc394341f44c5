import * as fs from 'node:fs';
import * as path from 'node:path';
import execa from 'execa';
import { projectRoot } from '../config/paths';

/** Thrown when the temporal CLI is not installed where the project puts it. */
export class TemporalCliMissingError extends Error {
  constructor(searched: string[]) {
    super(`the temporal CLI is not installed (looked in ${searched.join(', ')}): run \`bash scripts/setup.sh\``);
    this.name = 'TemporalCliMissingError';
  }
}

/** Where the project-local temporal CLI lives: `GLM_OPS_TEMPORAL_CLI`, the venv from PyPI, or the go-install fallback. */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.GLM_OPS_TEMPORAL_CLI?.trim(),
    path.join(projectRoot(), '.venv', 'bin', 'temporal'),
    path.join(projectRoot(), '.tools', 'bin', 'temporal'),
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new TemporalCliMissingError(candidates);
  return found;
}

/** The CLI's own version line, e.g. `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export async function temporalCliVersion(cli = temporalCliPath()): Promise<string> {
  const { stdout } = await execa(cli, ['--version']);
  return stdout.trim();
}
