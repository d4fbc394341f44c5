import * as fs from 'node:fs';
import { readAppState } from './app-state';
import { appDir, platformPathsIn } from './platform-paths';

/** An app as the local platform's records on disk know it: its versions and the one traffic goes to. */
export interface RecordedApp {
  app: string;
  versions: number[];
  currentVersion: number | null;
}

/**
 * The apps the local platform has deployed in this state folder, read from their state files: the same records the
 * daemon serves from, so the answer needs no running daemon (a command can refuse an unknown app before it starts
 * anything). Apps never deployed (a folder without versions) are left out.
 */
export function recordedApps(stateDir: string): RecordedApp[] {
  const paths = platformPathsIn(stateDir);
  let names: string[];
  try {
    names = fs.readdirSync(paths.appsDir).sort();
  } catch {
    return [];
  }
  const apps: RecordedApp[] = [];
  for (const name of names) {
    const state = readAppState(appDir(paths, name));
    if (!state || state.versions.length === 0) continue;
    apps.push({
      app: state.app,
      versions: state.versions.map((v) => v.version).sort((a, b) => a - b),
      currentVersion: state.currentVersion,
    });
  }
  return apps;
}
