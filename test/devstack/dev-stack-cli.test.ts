import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { isProcessAlive } from '../../src/process/process-identity';
import { freePort } from '../../src/net/free-port';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'glm-ops');

describe('glm-ops dev up|status|check|down (real processes)', () => {
  let home: string;
  let blocker: net.Server;
  let blockedPort: number;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-dev-'));
    blockedPort = await freePort();
    blocker = net.createServer().listen(blockedPort, '127.0.0.1');
    const uiPort = await freePort();
    env = {
      ...process.env,
      GLM_OPS_HOME: home,
      GLM_OPS_TEMPORAL_PORT: String(blockedPort),
      GLM_OPS_TEMPORAL_UI_PORT: String(uiPort),
      // Its own hub port: the default 8700 is another suite's when two run at once.
      GLM_OPS_HUB_PORT: String(await freePort()),
      GLM_OPS_FIXTURE_SIZE_MB: '4',
    };
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_API_KEY'])
      delete env[key];
  });

  afterAll(async () => {
    await execa(cli, ['dev', 'down'], { env, reject: false });
    blocker.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('starts Temporal on a free port when the preferred one is taken, serves the UI, runs a workflow, and stops without orphans', async () => {
    const up = await execa(cli, ['dev', 'up'], { env });
    expect(up.stdout).toContain(`port ${blockedPort} is taken`);
    const uiUrl = /Temporal Web UI: (http:\/\/127\.0\.0\.1:\d+)/.exec(up.stdout)?.[1];
    expect(uiUrl).toBeDefined();
    expect((await fetch(uiUrl!)).status).toBe(200);
    expect(fs.existsSync(path.join(home, 'dev', 'temporal.db'))).toBe(true);

    const again = await execa(cli, ['dev', 'up'], { env });
    expect(again.stdout).toMatch(/already running/);

    const check = await execa(cli, ['dev', 'check'], { env });
    expect(check.stdout).toMatch(/stack check passed/);
    expect(check.stdout).toContain(`${uiUrl}/namespaces/default/workflows/`);

    const status = JSON.parse((await execa(cli, ['dev', 'status', '--json'], { env })).stdout);
    const pids: number[] = [status.temporal.pid, status.worker.pid, status.platformDaemon.pid];
    expect(pids.every(isProcessAlive)).toBe(true);
    // The daemon's own state, not a pointer to another command.
    const text = (await execa(cli, ['dev', 'status'], { env })).stdout;
    expect(text).toContain(`platform daemon: running (pid ${status.platformDaemon.pid}), control API `);
    expect(text).toContain('  no apps deployed');
    expect(text).not.toContain('see `glm-ops platform status`');

    await execa(cli, ['dev', 'down'], { env });
    expect(pids.filter(isProcessAlive)).toEqual([]);
    const after = JSON.parse((await execa(cli, ['dev', 'status', '--json'], { env })).stdout);
    expect(after).toEqual({});
    expect((await execa(cli, ['dev', 'status'], { env })).stdout).toContain(
      'platform daemon: not running (`glm-ops dev up` starts it)',
    );
  }, 600_000);

  it('refuses a malformed port setting with a message naming it', async () => {
    const result = await execa(cli, ['dev', 'up'], {
      env: { ...env, GLM_OPS_TEMPORAL_PORT: 'seventy' },
      reject: false,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('GLM_OPS_TEMPORAL_PORT');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('scripts/setup.sh', () => {
  it('names the missing tool in one line when python3 is absent', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-path-'));
    for (const tool of ['node', 'npm', 'bash', 'cat', 'sha256sum', 'cut', 'dirname']) {
      const found = (await execa('bash', ['-c', `command -v ${tool}`])).stdout.trim();
      fs.symlinkSync(found, path.join(bin, tool));
    }
    const result = await execa('bash', [path.join(root, 'scripts', 'setup.sh')], { env: { PATH: bin }, reject: false });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim()).toBe(
      'glm-ops setup: python3 is not installed: install Python 3.10+ (e.g. apt-get install python3 python3-venv)',
    );
    fs.rmSync(bin, { recursive: true, force: true });
  });
});
