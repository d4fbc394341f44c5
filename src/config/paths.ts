import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package root (the folder holding package.json), found from this file's location in src/ or lib/. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`glm-ops: no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** Where glm-ops keeps its state (dev server database, pids, logs, volumes, secrets): `GLM_OPS_HOME` or `<root>/.glm-ops`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.GLM_OPS_HOME?.trim();
  return configured ? path.resolve(configured) : path.join(projectRoot(), '.glm-ops');
}

/** The compiled CLI entry, for spawning glm-ops subcommands (emulator, daemon, worker) as child processes. */
export function cliEntry(): string {
  return path.join(projectRoot(), 'lib', 'cli', 'main.js');
}
