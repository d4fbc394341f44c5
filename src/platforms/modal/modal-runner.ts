import execa from 'execa';
import { ErrorType } from '../../shared/errors';
import {
  ModalCommandError,
  ModalNotFoundError,
  ModalPlatformError,
  ModalTransportError,
  ModalUnavailableError,
} from './modal-platform-errors';

/** What one `modal` (or helper) invocation printed. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** One process invocation: the binary, its argv, extra environment, a timeout and an optional abort signal. */
export interface CommandRequest {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The failure type a non-zero exit maps to when the output names no more specific cause. */
  failureType: ErrorType;
}

/** Runs a command and returns its output, or throws a typed ModalPlatformError; replaceable in tests. */
export type CommandRunner = (request: CommandRequest) => Promise<CommandOutput>;

const AUTH_FAILURE = /Token missing|Could not authenticate|Token ID and secret|AuthError|PermissionDenied|token.*(invalid|expired)/i;
const NOT_FOUND = /NotFoundError|No App with name|not found|does not exist|No such file/i;
const UNREACHABLE = /Could not connect to the Modal server|ConnectionError|UNAVAILABLE|DEADLINE_EXCEEDED|timed out/i;

/** Names of environment variables whose values must never be echoed (Modal tokens, API keys, hub tokens). */
const SECRET_NAME = /TOKEN|SECRET|API_KEY|PASSWORD/i;

/** Replaces every secret-looking environment value that appears in `text` with `***`. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv): string {
  let out = text;
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 4 && SECRET_NAME.test(name)) out = out.split(value).join('***');
  }
  return out;
}

/** The last meaningful line the client printed (its `Error: ...` line), for a one-line message. */
function lastErrorLine(stderr: string, stdout: string): string {
  const lines = `${stderr}\n${stdout}`
    .split(/\r?\n/)
    .map((line) => line.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '').replace(/[│╭╮╰╯─┃]/g, '').trim())
    .filter(Boolean);
  return lines.find((line) => /^(Error|.*Error:)/.test(line)) ?? lines.at(-1) ?? 'no output';
}

/** Maps a failed invocation to the shared vocabulary: auth → PlatformUnavailable, not found → NotFound, .... */
export function classifyFailure(
  request: Pick<CommandRequest, 'file' | 'args' | 'failureType' | 'timeoutMs'>,
  result: { exitCode?: number; stdout: string; stderr: string; timedOut?: boolean; missingBinary?: boolean },
): ModalPlatformError {
  const command = `${request.file.split('/').pop()} ${request.args.slice(0, 3).join(' ')}`;
  if (result.missingBinary) {
    return new ModalUnavailableError(`${request.file} not found: install the client with \`.venv/bin/pip install modal\` or set GLM_OPS_MODAL_CLI`);
  }
  if (result.timedOut) {
    return new ModalTransportError(`${command} timed out after ${Math.round(request.timeoutMs / 1000)} s: Modal did not answer; retrying`);
  }
  const detail = lastErrorLine(result.stderr, result.stdout);
  const text = `${result.stderr}\n${result.stdout}`;
  if (AUTH_FAILURE.test(text)) {
    return new ModalUnavailableError(`${command}: Modal credentials rejected or missing (${detail}): run \`modal token new\` or set MODAL_TOKEN_ID/MODAL_TOKEN_SECRET on the worker`);
  }
  if (NOT_FOUND.test(text)) return new ModalNotFoundError(`${command}: ${detail}`);
  if (UNREACHABLE.test(text)) return new ModalTransportError(`${command}: ${detail}`);
  return new ModalCommandError(`${command} exited with code ${result.exitCode ?? '?'}: ${detail}`, request.failureType);
}

/** The real runner: execa with a timeout, no shell, stdin closed, and every error message redacted. */
export const execaRunner: CommandRunner = async (request) => {
  const child = execa(request.file, request.args, {
    env: request.env,
    extendEnv: false,
    timeout: request.timeoutMs,
    killSignal: 'SIGTERM',
    reject: false,
    stdin: 'ignore',
    all: false,
  });
  const onAbort = (): void => {
    child.kill('SIGTERM', { forceKillAfterTimeout: 5_000 });
  };
  request.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await child;
    if (request.signal?.aborted) {
      throw new ModalCommandError(`${request.args.slice(0, 2).join(' ')} aborted by the caller`, ErrorType.Aborted);
    }
    if (result.exitCode === 0 && !result.timedOut) return { stdout: result.stdout, stderr: result.stderr };
    const missingBinary = (result as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((result as { originalMessage?: string }).originalMessage ?? ''));
    const error = classifyFailure(request, {
      exitCode: result.exitCode,
      stdout: result.stdout ?? '',
      stderr: result.stderr ?? '',
      timedOut: result.timedOut,
      missingBinary,
    });
    error.message = redactSecrets(error.message, request.env);
    throw error;
  } finally {
    request.signal?.removeEventListener('abort', onAbort);
  }
};
