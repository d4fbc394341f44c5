import { ErrorType } from '../../../src/shared/errors';
import { clientEnv, clientErrorLine, execaRunner, stripAnsi } from '../../../src/platforms/modal/modal-runner';

const ESC = String.fromCharCode(27);

describe('the command runner', () => {
  test('a command past its time limit is killed and reported as a retryable TransportError naming the step', async () => {
    await expect(
      execaRunner({
        file: 'sleep',
        args: ['30'],
        env: process.env,
        timeoutMs: 300,
        failureType: ErrorType.DeployFailed,
        step: 'deploy',
      }),
    ).rejects.toMatchObject({
      errorType: ErrorType.TransportError,
      message: expect.stringMatching(/^deploy: sleep timed out/),
    });
  });

  test('the client runs without forced colour or tracebacks whatever the worker has set', () => {
    const env = clientEnv({ FORCE_COLOR: '1', CLICOLOR_FORCE: '1', MODAL_TRACEBACK: '1', KEEP: 'x' });
    expect(env).toEqual({ KEEP: 'x', NO_COLOR: '1', TERM: 'dumb', PYTHONIOENCODING: 'utf-8' });
  });

  test('escape sequences (colours, rich hyperlinks) are stripped; the error line is read from stderr only', () => {
    expect(stripAnsi(`${ESC}[1m[${ESC}[0m ${ESC}]8;id=1;http://x${ESC}\\link${ESC}]8;;${ESC}\\`)).toBe('[ link');
    expect(clientErrorLine('Error: Volume not found\nTry `modal volume list`\n')).toBe(
      'Error: Volume not found Try `modal volume list`',
    );
    expect(clientErrorLine('╭─ Traceback ─╮\n│ x │\n╰──╯\nDeployConfigError: too long:\nshorten it\n')).toBe(
      'DeployConfigError: too long: shorten it',
    );
    expect(clientErrorLine('App is already stopped. (Stopped at 2026-12-01 09:49)\n')).toBe(
      'App is already stopped. (Stopped at 2026-12-01 09:49)',
    );
  });
});
