import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { commandLine } from '../../src/devstack/process-control';
import { freePort, isPortFree } from '../../src/net/free-port';
import { isProcessAlive, waitForExit } from '../../src/process/process-identity';
import type { RolloutResult, RolloutStatus } from '../../src/shared/rollout-types';
import type { Spec } from '../../src/spec/schema';
import { status as statusQuery } from '../../src/shared/rollout-messages';
import { builtCliEntry } from '../helpers/built-lib';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'glm-ops');

interface Status {
  temporal?: { pid: number; address: string };
  worker?: { pid: number };
  hub?: { pid: number; url: string };
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * The drill: the dev server's preferred port is taken by another program from the start, so the stack runs it
 * on another port, which the worker and the CLI are told. When the server dies, `dev up` must bring it back on that
 * recorded port (the preferred one is still taken), or refuse naming whoever holds it; never move it away from its
 * clients.
 */
describe('a dev stack whose clients follow the server (real Temporal, worker, daemon, hub)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let preferred: net.Server;
  let preferredPort: number;

  const dev = async (...args: string[]) => execa(cli, ['dev', ...args], { env, reject: false });
  const status = async (): Promise<Status> => JSON.parse((await dev('status', '--json')).stdout) as Status;
  async function killTemporal(): Promise<Status> {
    const before = await status();
    process.kill(before.temporal!.pid, 'SIGKILL');
    expect(await waitForExit(before.temporal!.pid, 30_000)).toBe(true);
    // A killed Go server's leader thread turns zombie before its other threads let go of its sockets.
    const port = Number(before.temporal!.address.split(':')[1]);
    await waitFor(() => isPortFree(port), { what: `the dead server's port ${port} is released` });
    return before;
  }

  beforeAll(async () => {
    builtCliEntry();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-follow-'));
    preferredPort = await freePort();
    preferred = await listen(preferredPort);
    env = {
      ...process.env,
      GLM_OPS_HOME: home,
      GLM_OPS_TEMPORAL_PORT: String(preferredPort),
      GLM_OPS_TEMPORAL_UI_PORT: String(await freePort()),
      GLM_OPS_HUB_PORT: String(await freePort()),
      GLM_OPS_FIXTURE_SIZE_MB: '6',
    };
    for (const key of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_PROFILE',
      'TEMPORAL_CONFIG_FILE',
      'TEMPORAL_API_KEY',
      'HF_ENDPOINT',
    ])
      delete env[key];
    const up = await dev('up');
    expect(up.stderr).toBe('');
    expect(up.stdout).toContain(`port ${preferredPort} is taken`);
  });

  afterAll(async () => {
    await dev('down');
    await close(preferred);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('refuses to restart a dead server off its recorded port, naming the program that holds it (pid and command line)', async () => {
    const before = await killTemporal();
    const recordedPort = Number(before.temporal!.address.split(':')[1]);
    const squatter = await listen(recordedPort);
    try {
      const up = await dev('up');
      expect(up.exitCode).not.toBe(0);
      expect(up.stderr).toContain(`port ${recordedPort} (recorded for the Temporal dev server`);
      expect(up.stderr).toContain(`is taken by pid ${process.pid} (${commandLine(process.pid)})`);
      expect(up.stderr).toMatch(/glm-ops dev down/);
      expect((await status()).temporal).toBeUndefined();
      expect((await dev('status')).stdout).toContain(
        `temporal: not running (recorded at ${before.temporal!.address}: \`glm-ops dev up\` restarts it there)`,
      );
    } finally {
      await close(squatter);
    }
    const again = await dev('up');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`restarting it on its recorded port ${recordedPort}`);
    const after = await status();
    expect(after.temporal!.address).toBe(before.temporal!.address);
    expect(after.worker!.pid).toBe(before.worker!.pid);
    const check = await dev('check');
    expect(check.stdout).toMatch(/stack check passed/);
  });

  it('brings a dead hub back on its recorded port (the worker and the daemon have its URL), or names who holds it', async () => {
    const before = await status();
    process.kill(before.hub!.pid, 'SIGKILL');
    expect(await waitForExit(before.hub!.pid, 30_000)).toBe(true);
    const hubPort = Number(new URL(before.hub!.url).port);
    await waitFor(() => isPortFree(hubPort), { what: `the dead hub's port ${hubPort} is released` });
    const squatter = await listen(hubPort);
    try {
      const up = await dev('up');
      expect(up.exitCode).not.toBe(0);
      expect(up.stderr).toContain(
        `port ${hubPort} (recorded for the fixture hub: the worker and the platform daemon download from ${before.hub!.url}) is taken by pid ${process.pid}`,
      );
    } finally {
      await close(squatter);
    }
    const again = await dev('up');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`restarting it on its recorded port ${hubPort}`);
    const after = await status();
    expect(after.hub!.url).toBe(before.hub!.url);
    expect(after.hub!.pid).not.toBe(before.hub!.pid);
    expect(after.worker!.pid).toBe(before.worker!.pid);
  });

  it('brings a server killed mid-rollout back on its port: the running worker follows and the rollout completes', async () => {
    const spec = YAML.parse(fs.readFileSync(path.join(root, 'examples', 'local-demo.yaml'), 'utf8')) as Spec;
    spec.app = 'follow-demo';
    // A scaled start-up of ~20 s: a health wait long enough to kill the server inside it.
    spec.local.timeScale = 0.02;
    spec.health = { startupTimeout: 120, pollInterval: 0.1 };
    const specFile = path.join(home, 'follow-demo.yaml');
    fs.writeFileSync(specFile, YAML.stringify(spec));

    const started = await execa(cli, ['rollout', specFile], { env, reject: false });
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/rollout r-\S+ started/);
    const before = await status();
    let connection = await Connection.connect({ address: before.temporal!.address });
    try {
      const handle = new Client({ connection }).workflow.getHandle('rollout/follow-demo');
      await waitFor(
        async () => {
          const state = await handle.query<RolloutStatus, []>(statusQuery).catch(() => undefined);
          return state?.phase === 'health';
        },
        { what: 'the rollout is in its health wait', timeoutMs: 120_000, pollMs: 200 },
      );
    } finally {
      await connection.close();
    }

    await killTemporal();
    const up = await dev('up');
    expect(up.stderr).toBe('');
    expect(up.stdout).toMatch(/restarting it on its recorded port/);
    expect(up.stdout).toContain(`worker already running (pid ${before.worker!.pid})`);
    const after = await status();
    expect(after.temporal!.address).toBe(before.temporal!.address);

    connection = await Connection.connect({ address: after.temporal!.address });
    try {
      const handle = new Client({ connection }).workflow.getHandle('rollout/follow-demo');
      // A hang guard, not a speed requirement: a worker left on a dead address never finishes it.
      const result = await Promise.race([
        handle.result() as Promise<RolloutResult>,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the rollout did not complete after the restart')), 180_000).unref(),
        ),
      ]);
      expect(result.outcome).toBe('succeeded');
    } finally {
      await connection.close();
    }
    expect(isProcessAlive(before.worker!.pid)).toBe(true);
  });

  it('replaces a running worker wired to an address the server no longer uses (its record was lost)', async () => {
    const before = await killTemporal();
    fs.rmSync(path.join(home, 'dev', 'temporal.json'));
    const movedPort = await freePort();
    const up = await execa(cli, ['dev', 'up'], {
      env: { ...env, GLM_OPS_TEMPORAL_PORT: String(movedPort) },
      reject: false,
    });
    expect(up.stderr).toBe('');
    expect(up.stdout).toContain(
      `worker (pid ${before.worker!.pid}) restarts: it connects to Temporal at ${before.temporal!.address}, which now listens at 127.0.0.1:${movedPort}`,
    );
    const after = await status();
    expect(after.temporal!.address).toBe(`127.0.0.1:${movedPort}`);
    expect(after.worker!.pid).not.toBe(before.worker!.pid);
    expect(isProcessAlive(before.worker!.pid)).toBe(false);
    const check = await dev('check');
    expect(check.stdout).toMatch(/stack check passed/);
  });
});
