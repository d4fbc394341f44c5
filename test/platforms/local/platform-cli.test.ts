import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { builtCliEntry } from '../../helpers/built-lib';
import { isProcessAlive, waitForExit } from '../../../src/process/process-identity';

const run = promisify(execFile);

describe('glm-ops platform up|down|status (detached daemon)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) =>
    run(process.execPath, [builtCliEntry(), 'platform', ...args], { env, timeout: 120_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        stdout: err.stdout,
        stderr: err.stderr,
      }),
    );
  const daemonPid = (): number => JSON.parse(fs.readFileSync(path.join(home, 'platform', 'daemon.json'), 'utf8')).pid;

  beforeAll(() => {
    builtCliEntry();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-platform-cli-'));
    env = { ...process.env, GLM_OPS_HOME: home };
  });

  afterAll(async () => {
    await cli('down');
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('status without a daemon is one line on stderr and a non-zero exit', async () => {
    const result = await cli('status');
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('platform up');
  });

  test('up starts a daemon and says where its state lives; a second up reports the running one', async () => {
    const first = await cli('up');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('platform daemon started');
    expect(first.stdout).toContain(path.join(home, 'platform'));
    const pid = daemonPid();
    const second = await cli('up');
    expect(second.stdout).toContain(`already running: pid ${pid}`);
    expect((fs.statSync(path.join(home, 'platform', 'token')).mode & 0o777).toString(8)).toBe('600');
    const status = await cli('status', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({ pid, apps: [] });
  });

  test('a SIGKILLed daemon is replaced by the next up (stale lock reclaimed), and down stops it', async () => {
    const pid = daemonPid();
    process.kill(pid, 'SIGKILL');
    expect(await waitForExit(pid, 5_000)).toBe(true);
    const again = await cli('up');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('platform daemon started');
    const newPid = daemonPid();
    expect(newPid).not.toBe(pid);
    const down = await cli('down');
    expect(down.stdout).toContain('platform daemon stopped');
    expect(isProcessAlive(newPid)).toBe(false);
    expect((await cli('down')).stdout).toContain('was not running');
  });
});
