/**
 * Pure argv builders for every `modal` CLI call the adapter makes. Contract tests check each subcommand and flag
 * against the installed client's `--help`, so a client upgrade that renames one fails a test, not a rollout.
 */

/** Options shared by every command: the Modal environment (`-e`), omitted to use the profile's default. */
export interface ModalScope {
  environment?: string;
}

function envFlag(scope: ModalScope): string[] {
  return scope.environment ? ['--env', scope.environment] : [];
}

/**
 * `modal deploy FILE --name APP --env ENV [--tag ROLLOUT]`: the tag makes a retried deploy findable in history (the
 * ops app is deployed untagged: its versions mean nothing to a rollout).
 */
export function deployArgv(deployPy: string, app: string, rolloutId: string | undefined, scope: ModalScope): string[] {
  return ['deploy', deployPy, '--name', app, ...envFlag(scope), ...(rolloutId ? ['--tag', rolloutId] : [])];
}

/** `modal app history APP --json`: versions newest first, with their tags. */
export function appHistoryArgv(app: string, scope: ModalScope): string[] {
  return ['app', 'history', app, ...envFlag(scope), '--json'];
}

/** `modal app list --json`: every app with its state (deployed, stopped, ...). */
export function appListArgv(scope: ModalScope): string[] {
  return ['app', 'list', ...envFlag(scope), '--json'];
}

/** `modal app rollback APP vN`: the `v` is required (a bare number is rejected by the client). */
export function appRollbackArgv(app: string, version: number, scope: ModalScope): string[] {
  if (!Number.isInteger(version) || version < 1) throw new RangeError(`version ${version} must be a positive integer`);
  return ['app', 'rollback', app, `v${version}`, ...envFlag(scope)];
}

/** `modal app stop APP -y`: permanent; `-y` because a worker has no one to answer the prompt. */
export function appStopArgv(app: string, scope: ModalScope): string[] {
  return ['app', 'stop', app, '--yes', ...envFlag(scope)];
}

/** `modal app logs APP --timestamps [--since S] [--tail N]`: fetch (not follow) recent lines with their times. */
export function appLogsArgv(app: string, options: { since?: string; limit?: number }, scope: ModalScope): string[] {
  const argv = ['app', 'logs', app, ...envFlag(scope), '--timestamps'];
  if (options.since) argv.push('--since', options.since);
  if (options.limit !== undefined) argv.push('--tail', String(options.limit));
  return argv;
}

/** `modal volume ls VOL PATH --json`: one folder's entries with sizes. */
export function volumeLsArgv(volume: string, remotePath: string, scope: ModalScope): string[] {
  return ['volume', 'ls', volume, remotePath, ...envFlag(scope), '--json'];
}

/**
 * `modal volume get VOL PATH LOCAL_FILE --force`: into a local file. Not `-` (stdout): the client prints
 * "✓ Finished downloading files to local!" on stdout after the bytes.
 */
export function volumeGetArgv(volume: string, remotePath: string, localFile: string, scope: ModalScope): string[] {
  return ['volume', 'get', volume, remotePath, localFile, '--force', ...envFlag(scope)];
}

/** `modal secret list --json`: the secrets of the environment (names and dates, never values). */
export function secretListArgv(scope: ModalScope): string[] {
  return ['secret', 'list', ...envFlag(scope), '--json'];
}

/** `modal volume list --json`: the volumes of the environment. */
export function volumeListArgv(scope: ModalScope): string[] {
  return ['volume', 'list', ...envFlag(scope), '--json'];
}

/** `modal volume rm VOL PATH [-r]`. */
export function volumeRmArgv(volume: string, remotePath: string, recursive: boolean, scope: ModalScope): string[] {
  return ['volume', 'rm', volume, remotePath, ...(recursive ? ['--recursive'] : []), ...envFlag(scope)];
}

/** The ops app's functions (modal/deploy.py with GLM_OPS_DEPLOY_ROLE=ops) the adapter spawns. */
export type OpsFunction = 'download_model' | 'compile_deepgemm' | 'verify_setup' | 'commit_volume';

/** `control.py spawn --app APP --function F --kwargs JSON`: starts the call on Modal and prints its id. */
export function spawnArgv(
  controlPy: string,
  app: string,
  fn: OpsFunction,
  kwargs: object,
  scope: ModalScope,
): string[] {
  return [controlPy, 'spawn', '--app', app, ...envFlag(scope), '--function', fn, '--kwargs', JSON.stringify(kwargs)];
}

/** `control.py call-status --id ID --wait S`: running, done (with the result), failed or expired. */
export function callStatusArgv(controlPy: string, callId: string, waitSec: number): string[] {
  return [controlPy, 'call-status', '--id', callId, '--wait', String(waitSec)];
}

/** `control.py cancel --id ID`. */
export function cancelCallArgv(controlPy: string, callId: string): string[] {
  return [controlPy, 'cancel', '--id', callId];
}
