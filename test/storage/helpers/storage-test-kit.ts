import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFixtureCheckpoint, type FixtureManifest } from '../../../src/hub/fixture-checkpoint';
import { Spec, type SpecInput } from '../../../src/spec/schema';

/** Absolute path of the require hook that runs TypeScript in child processes. */
export const TS_REGISTER = path.join(__dirname, 'ts-register.js');
/** The CLI entry holding this area's commands. */
export const CLI_ENTRY = path.join(__dirname, 'cli-entry.ts');
/** The project root (cwd for children). */
export const PROJECT_ROOT = path.resolve(__dirname, '../../..');

/** A fresh temp folder removed by the returned cleanup. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `glm-ops-${prefix}-`));
}

/** Command that runs this area's CLI from sources: [node, -r, hook, entry]. */
export function cliCommand(): string[] {
  return [process.execPath, '-r', TS_REGISTER, CLI_ENTRY];
}

/** Writes a small fixture checkpoint (default 6 MB, 3 shards) for fast tests. */
export async function smallFixture(dir: string, sizeMB = 6, shardCount = 3, seed = 'test'): Promise<FixtureManifest> {
  return writeFixtureCheckpoint({ outDir: dir, sizeMB, shardCount, seed });
}

/** A resolved spec for the local platform with test-sized times. */
export function testSpec(overrides: Partial<SpecInput> = {}): Spec {
  return Spec.parse({
    app: 'glm-test',
    platform: 'local',
    model: { repo: 'zai-org/GLM-5.1-FP8', revision: 'main', servedName: 'glm-5.1' },
    gpu: { type: 'B200', count: 8 },
    sglang: { image: 'lmsysorg/sglang:v0.5.10-cu129' },
    local: { timeScale: 0.001, compile: { seconds: 200 } },
    ...overrides,
  });
}
