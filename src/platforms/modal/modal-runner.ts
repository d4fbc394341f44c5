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
  /** The failure type a non-zero exit maps to when the client's error names no more specific cause. */
  failureType: ErrorType;
  /** The adapter step this command belongs to (`deploy`, `weights status`, ...), named in every failure. */
  step: string;
  /** Called with the child's pid once it runs (the deploy guard records it). */
  onSpawn?: (pid: number) => void;
}

/** Runs a command and returns its output, or throws a typed ModalPlatformError; replaceable in tests. */
export type CommandRunner = (request: CommandRequest) => Promise<CommandOutput>;

// Matched against the client's own error line only, never against streamed output (container logs say anything).
const AUTH_FAILURE =
  /Token missing|Could not authenticate|Token ID and secret|Invalid token|AuthError|PermissionDenied|UNAUTHENTICATED|token.*(invalid|expired|not recognized)/i;
const NOT_FOUND = /NotFoundError|No App with name|not found|does not exist|No such file|FileNotFoundError/i;
const UNREACHABLE = /Could not connect to the Modal server|ConnectionError|UNAVAILABLE|DEADLINE_EXCEEDED|timed out/i;

/** Names of environment variables whose values must never be echoed (Modal tokens, API keys, hub tokens). */
const SECRET_NAME = /TOKEN|SECRET|API_KEY|PASSWORD/i;

const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);
/** CSI sequences (colours, cursor moves) and OSC sequences (rich's hyperlinks). */
const ANSI = new RegExp(
  `${ESC}\\[[0-?]*[ -/]*[@-~]|${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)|${ESC}[@-Z\\\\-_]`,
  'g',
);

/** Text without terminal escape sequences: what a human would read. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * The environment every client call runs with: no colour, no forced terminal, no full tracebacks, so `--json` is
 * plain JSON and a failure ends in the client's one `Error: ...` line whatever the worker's own environment says.
 */
export function clientEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, NO_COLOR: '1', TERM: 'dumb', PYTHONIOENCODING: 'utf-8' };
  for (const name of ['FORCE_COLOR', 'CLICOLOR_FORCE', 'TTY_COMPATIBLE', 'TTY_INTERACTIVE', 'MODAL_TRACEBACK']) {
    delete out[name];
  }
  return out;
}

/** Replaces every secret-looking environment value that appears in `text` with `***`. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv): string {
  let out = text;
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 4 && SECRET_NAME.test(name)) out = out.split(value).join('***');
  }
  return out;
}

/**
 * The client's own account of a failure, from stderr only: its `Error: ...` message (with the lines that continue
 * it, up to the hint), else the last exception line of a traceback (`SomeError: message`), else its last line
 * (e.g. `App is already stopped.`, printed by a SystemExit).
 */
export function clientErrorLine(stderr: string): string {
  const lines = stripAnsi(stderr)
    .split(/\r?\n/)
    .map((line) => line.replace(/[│╭╮╰╯─┃]/g, '').trim());
  const start = lines.findIndex((line) => line.startsWith('Error:'));
  if (start >= 0) {
    const message: string[] = [];
    for (const line of lines.slice(start)) {
      if (line === '' && message.length > 0) break;
      message.push(line);
    }
    return message.join(' ').replace(/\s+/g, ' ').trim();
  }
  const nonEmpty = lines.filter(Boolean);
  // A traceback ends with `SomeError: message`, the message wrapped onto the lines after it.
  const exception = nonEmpty.findLastIndex((line) => /^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*:/.test(line));
  if (exception >= 0) return nonEmpty.slice(exception).join(' ').replace(/\s+/g, ' ').trim();
  return nonEmpty.at(-1) ?? 'no error output';
}

/** Maps a failed invocation to the shared vocabulary from the client's error line: auth, not found, unreachable. */
export function classifyFailure(
  request: Pick<CommandRequest, 'file' | 'args' | 'failureType' | 'timeoutMs' | 'step'>,
  result: { exitCode?: number; stderr: string; timedOut?: boolean; missingBinary?: boolean },
): ModalPlatformError {
  const command = describeCommand(request);
  if (result.missingBinary) {
    return new ModalUnavailableError(
      `${request.step}: ${request.file} not found: install the client with \`.venv/bin/pip install modal\` or set GLM_OPS_MODAL_CLI`,
    );
  }
  if (result.timedOut) {
    return new ModalTransportError(
      `${request.step}: ${command} timed out after ${Math.round(request.timeoutMs / 1000)} s: Modal did not answer; retrying`,
    );
  }
  const line = clientErrorLine(result.stderr);
  const failure = withClientMessage(
    AUTH_FAILURE.test(line)
      ? new ModalUnavailableError(
          `${request.step}: ${command}: Modal credentials rejected or missing (${line}): run \`modal token new\` or set MODAL_TOKEN_ID/MODAL_TOKEN_SECRET on the worker`,
        )
      : NOT_FOUND.test(line)
        ? new ModalNotFoundError(`${request.step}: ${command}: ${line}`)
        : UNREACHABLE.test(line)
          ? new ModalTransportError(`${request.step}: ${command}: ${line}`)
          : new ModalCommandError(
              `${request.step}: ${command} exited with code ${result.exitCode ?? '?'}: ${line}`,
              request.failureType,
            ),
    line,
  );
  return failure;
}

function withClientMessage<E extends ModalPlatformError>(error: E, line: string): E {
  error.clientMessage = line;
  return error;
}

/** `modal app stop` (the binary's name and the subcommand words, no paths or values), for messages. */
function describeCommand(request: Pick<CommandRequest, 'file' | 'args'>): string {
  const words = request.args.slice(0, 2).filter((arg) => /^[a-z][a-z-]*$/.test(arg));
  const name = request.file.split('/').pop() ?? request.file;
  if (name.startsWith('python')) return `control.py ${request.args[1] ?? ''}`.trim();
  return `${name} ${words.join(' ')}`.trim();
}

/** The real runner: execa with a timeout, no shell, stdin closed, a plain client environment, errors redacted. */
export const execaRunner: CommandRunner = async (request) => {
  const env = clientEnv(request.env);
  const child = execa(request.file, request.args, {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: false,
    stripFinalNewline: false,
  });
  if (child.pid !== undefined) request.onSpawn?.(child.pid);
  const onAbort = (): void => {
    child.kill('SIGTERM', { forceKillAfterTimeout: 5_000 });
  };
  request.signal?.addEventListener('abort', onAbort, { once: true });
  // Our own timer, cleared whatever happens: execa 5's `timeout` keeps its timer running when the spawn fails
  // (a missing binary), which holds the worker's event loop for the whole timeout.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    onAbort();
  }, request.timeoutMs);
  try {
    const result = await child;
    if (request.signal?.aborted) {
      throw new ModalCommandError(
        `${request.step}: ${describeCommand(request)} stopped by the caller`,
        ErrorType.Aborted,
      );
    }
    const stdout = stripAnsi(result.stdout ?? '');
    const stderr = stripAnsi(result.stderr ?? '');
    if (result.exitCode === 0 && !timedOut) return { stdout, stderr };
    const missingBinary =
      (result as { code?: string }).code === 'ENOENT' ||
      /ENOENT/.test(String((result as { originalMessage?: string }).originalMessage ?? ''));
    const error = classifyFailure(request, {
      exitCode: result.exitCode,
      stderr,
      timedOut,
      missingBinary,
    });
    error.message = redactSecrets(error.message, env);
    if (error.clientMessage) error.clientMessage = redactSecrets(error.clientMessage, env);
    throw error;
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
};
