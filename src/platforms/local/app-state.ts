import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { Spec } from '../../spec/schema';

/** One engine process the daemon started; enough to adopt or kill it after a daemon restart. */
export const EngineRecord = z.object({
  engineId: z.string(),
  pid: z.number().int().positive(),
  port: z.number().int().positive(),
  version: z.number().int().positive(),
  startedAt: z.string(),
  stdoutPath: z.string(),
  stderrPath: z.string(),
  /** Bytes of each output file already copied into the app log, so an adopting daemon resumes there. */
  stdoutOffset: z.number().int().min(0).default(0),
  stderrOffset: z.number().int().min(0).default(0),
});
export type EngineRecord = z.infer<typeof EngineRecord>;

/** One deployed version: the spec it runs and the rollout that created it. */
export const VersionRecord = z.object({
  version: z.number().int().positive(),
  rolloutId: z.string(),
  spec: Spec,
  deployedAt: z.string(),
});
export type VersionRecord = z.infer<typeof VersionRecord>;

/** Per-app counters surfaced by `status` and the control API. */
export const AppCounters = z.object({
  coldStarts: z.number().int().min(0).default(0),
  badGateway502: z.number().int().min(0).default(0),
  replacements: z.number().int().min(0).default(0),
});
export type AppCounters = z.infer<typeof AppCounters>;

/** Everything the daemon knows about an app, persisted so a restart resumes it. */
export const AppState = z.object({
  app: z.string(),
  /** The router's port: chosen once, re-used across deploys and daemon restarts while it is free. */
  routerPort: z.number().int().positive(),
  /** Null before the first deploy and after stop. */
  currentVersion: z.number().int().positive().nullable(),
  /** Set by setMinContainers; a new deploy resets it to the spec's value, as Modal's update_autoscaler is. */
  minContainersOverride: z.number().int().min(0).nullable().default(null),
  /**
   * The version unpinned traffic goes to while the current one has no ready engine yet (a rolling deploy keeps the
   * old version serving); null once the current version serves.
   */
  servingVersion: z.number().int().positive().nullish(),
  /**
   * The version that served before the last deploy: its engines stay alive (not routed once the new version serves)
   * so a rollback to it is instant, until `untilMs` (set when the new version became ready), a verification of the
   * new version, or the next deploy.
   */
  retainedVersion: z.object({ version: z.number().int().positive(), untilMs: z.number().nullable() }).nullish(),
  versions: z.array(VersionRecord).default([]),
  counters: AppCounters.default({ coldStarts: 0, badGateway502: 0, replacements: 0 }),
  engines: z.array(EngineRecord).default([]),
});
export type AppState = z.infer<typeof AppState>;

/** The state file of an app. */
export function appStateFile(dir: string): string {
  return path.join(dir, 'state.json');
}

/** Reads an app's state; undefined when the app was never deployed here. */
export function readAppState(dir: string): AppState | undefined {
  const file = appStateFile(dir);
  if (!fs.existsSync(file)) return undefined;
  const parsed = AppState.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`app state ${file} is unreadable: ${z.prettifyError(parsed.error)}; move it away`);
  return parsed.data;
}

/** Writes an app's state atomically (temp file then rename), so a killed daemon never leaves half a file. */
export function writeAppState(dir: string, state: AppState): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = appStateFile(dir);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(state, null, 2), { mode: 0o600 });
  fs.renameSync(temp, file);
}
