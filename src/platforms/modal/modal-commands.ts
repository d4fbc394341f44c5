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

/** `modal deploy FILE --name APP --env ENV --tag ROLLOUT`: the tag makes a retried deploy findable in history. */
export function deployArgv(deployPy: string, app: string, rolloutId: string, scope: ModalScope): string[] {
  return ['deploy', deployPy, '--name', app, ...envFlag(scope), '--tag', rolloutId];
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

/** `modal volume get VOL PATH -`: a file's contents on stdout. */
export function volumeGetArgv(volume: string, remotePath: string, scope: ModalScope): string[] {
  return ['volume', 'get', volume, remotePath, '-', ...envFlag(scope)];
}

/** `modal volume rm VOL PATH [-r]`. */
export function volumeRmArgv(volume: string, remotePath: string, recursive: boolean, scope: ModalScope): string[] {
  return ['volume', 'rm', volume, remotePath, ...(recursive ? ['--recursive'] : []), ...envFlag(scope)];
}

/** The deploy.py functions the adapter runs with `modal run`. */
export type DeployPyFunction = 'download_model' | 'compile_deepgemm' | 'verify_setup' | 'commit_volume';

/**
 * `modal run -q -w RESULT FILE::FUNCTION [args]`: `-w` writes the function's JSON string return value to a local
 * file, so the adapter parses a result instead of scraping progress output.
 */
export function runFunctionArgv(
  deployPy: string,
  fn: DeployPyFunction,
  resultPath: string,
  args: string[],
  scope: ModalScope,
): string[] {
  return ['run', '--quiet', '--write-result', resultPath, ...envFlag(scope), `${deployPy}::${fn}`, ...args];
}
