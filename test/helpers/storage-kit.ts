import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFixtureCheckpoint, type FixtureManifest } from '../../src/hub/fixture-checkpoint';
import type { Spec } from '../../src/spec/schema';
import { testSpec } from './test-spec';
import { builtCliEntry } from './built-lib';

/** A fresh temp folder removed by the returned cleanup. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `glm-ops-${prefix}-`));
}

/** Command that runs the real CLI (hub, verify, emulator-compile, ...) from lib/. */
export function cliCommand(): string[] {
  return [process.execPath, builtCliEntry()];
}

/** Writes a small fixture checkpoint (default 6 MB, 3 shards) for fast tests. */
export async function smallFixture(dir: string, sizeMB = 6, shardCount = 3, seed = 'test'): Promise<FixtureManifest> {
  return writeFixtureCheckpoint({ outDir: dir, sizeMB, shardCount, seed });
}

/** {@link testSpec} under the storage tests' app name, with a 200 s DeepGEMM compile (0.2 s at time scale 0.001). */
export function storageSpec(patch?: (spec: Spec) => void): Spec {
  return testSpec('glm-test', (spec) => {
    spec.local.compile = { ...spec.local.compile, seconds: 200 };
    patch?.(spec);
  });
}
