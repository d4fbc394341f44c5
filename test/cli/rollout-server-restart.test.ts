import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../src/devstack/dev-server';
import { freePort } from '../../src/net/free-port';
import { loadConfig } from '../../src/config/config';
import { LocalPlatform } from '../../src/platforms/local/local-platform';
import { isProcessAlive } from '../../src/process/process-identity';
import { LOCAL_TASK_QUEUE } from '../../src/shared/task-queue';
import type { Spec } from '../../src/spec/schema';
import { builtCliEntry } from '../helpers/built-lib';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(420_000);

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'glm-ops');
const demo = path.join(root, 'examples', 'local-demo.yaml');

/**
 * The drill of issue 14: a Temporal server (on-disk SQLite) SIGKILLed in the middle of a rollout's health wait and
 * restarted on the same port, while `glm-ops rollout --wait` follows the rollout. The CLI must ride the outage out
 * and report the rollout's real outcome (it used to exit 1, "Failed to get Workflow execution history", which reads
 * as "failed (compensated)"), and the rollout must finish with exactly one deploy.
 */
describe('Temporal server restart mid-rollout (SIGKILL during the health wait, same port, same database)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let server: DevServer | undefined;
  let worker: ChildProcess | undefined;
  let workerOutput = '';
  const serverLog = (): string => path.join(home, 'temporal.log');

  const startServer = (): Promise<DevServer> =>
    startDevServer({
      dbFile: path.join(home, 'temporal.db'),
      preferredPort: port,
      headless: true,
      logFile: serverLog(),
      detached: false,
    });

  async function withClient<T>(body: (client: Client) => Promise<T>): Promise<T> {
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      return await body(new Client({ connection }));
    } finally {
      await connection.close();
    }
  }

  beforeAll(async () => {
    builtCliEntry();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-server-restart-'));
    port = await freePort();
    server = await startServer();
    env = {
      ...process.env,
      GLM_OPS_HOME: path.join(home, 'state'),
      // Its own hub port: the default 8700 is another suite's when two run at once.
      GLM_OPS_HUB_PORT: String(await freePort()),
      GLM_OPS_FIXTURE_SIZE_MB: '6',
      XDG_CONFIG_HOME: path.join(home, 'xdg'),
    };
    for (const key of Object.keys(env)) {
      if (key.startsWith('TEMPORAL_') || key.startsWith('GLM_OPS_SECRET_') || key === 'HF_ENDPOINT') delete env[key];
    }
    env.TEMPORAL_ADDRESS = server.address;
    worker = spawn(cli, ['worker', '--task-queue', LOCAL_TASK_QUEUE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [worker.stdout!, worker.stderr!]) {
      stream.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    }
    await waitFor(() => workerOutput.includes('connected to Temporal at'), {
      what: 'worker connected',
      timeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    if (env) await execa(cli, ['dev', 'down'], { env, reject: false });
    if (server && isProcessAlive(server.pid)) process.kill(server.pid, 'SIGKILL');
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  /** The local demo under another app name, with ~10 s of weight load (1000 s at 1/100) to kill the server into. */
  function writeSlowSpec(app: string): string {
    const spec = YAML.parse(fs.readFileSync(demo, 'utf8')) as Spec;
    spec.app = app;
    spec.local.timeScale = 0.01;
    spec.local.compile = { seconds: 100, shouldFail: false };
    spec.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
    // Shorter than the health wait plus the outage: a wait charged for the outage would time out a healthy engine.
    spec.health = { startupTimeout: 40, pollInterval: 0.2 };
    const file = path.join(home, `${app}.yaml`);
    fs.writeFileSync(file, YAML.stringify(spec));
    return file;
  }

  /** `glm-ops rollout <spec> …` running, with everything it printed so far. */
  function startCliRollout(args: string[]) {
    const child = execa(cli, ['rollout', ...args], { env, reject: false });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const diagnostics = (): string =>
      `\ncli:\n${output}\nworker:\n${workerOutput.slice(-3000)}\nserver log:\n${fs.readFileSync(serverLog(), 'utf8').slice(-2000)}`;
    return { child, output: () => output, diagnostics };
  }

  /** Waits until the app's rollout is in its health wait (the activity has heartbeated), then SIGKILLs the server. */
  /**
   * Kills the server once the health wait heartbeats — and, with `cliShows`, once the CLI's progress shows that text
   * too: the CLI reads the workflow's progress a moment after it happens, so on a loaded machine the kill can land
   * while it still shows an earlier step.
   */
  async function killServerDuringHealth(
    app: string,
    rollout: ReturnType<typeof startCliRollout>,
    cliShows?: string,
  ): Promise<void> {
    await waitFor(
      () =>
        withClient(async (client) => {
          if (rollout.child.exitCode !== null) throw new Error(`the CLI exited ${rollout.child.exitCode}`);
          if (cliShows !== undefined && !rollout.output().includes(cliShows)) return false;
          const description = await client.workflow.getHandle(`rollout/${app}`).describe();
          const health = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'waitForHealth');
          return Boolean(health?.heartbeatDetails?.payloads?.length);
        }).catch((err: unknown) => {
          if (rollout.child.exitCode !== null) throw err;
          return false;
        }),
      { what: `${app}: the health wait heartbeating`, timeoutMs: 180_000, pollMs: 200 },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}${rollout.diagnostics()}`);
    });
    process.kill(server!.pid, 'SIGKILL');
    await waitFor(() => !isProcessAlive(server!.pid), { what: 'the server gone' });
  }

  it('rollout --wait says it lost the server, reconnects, and exits 0 when the rollout completes, with one deploy', async () => {
    expect(server!.port).toBe(port);
    const app = 'restart-drill';
    const rollout = startCliRollout([writeSlowSpec(app), '--wait']);
    await killServerDuringHealth(app, rollout);
    // Down until the CLI has noticed (its client retries a short blip by itself) or gave up, then back on its port.
    const lost = `lost the Temporal server at 127.0.0.1:${port}, reconnecting`;
    await waitFor(() => rollout.output().includes(lost) || rollout.child.exitCode !== null, {
      what: 'the CLI reporting the lost server',
      timeoutMs: 120_000,
    });
    server = await startServer();
    expect(server.port).toBe(port);

    const result = await rollout.child;
    expect({ exitCode: result.exitCode, output: rollout.output() }).toEqual({
      exitCode: 0,
      output: expect.stringMatching(/rollout r-\S+ of restart-drill succeeded/),
    });
    expect(rollout.output()).toContain(lost);
    expect(rollout.output()).toContain(`reconnected to the Temporal server at 127.0.0.1:${port}`);
    expect(rollout.output()).not.toMatch(/rollout failed|state unknown/);

    const history = await withClient((client) => client.workflow.getHandle(`rollout/${app}`).fetchHistory());
    const deploys = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deploy',
    );
    expect(deploys).toHaveLength(1);
    expect((await LocalPlatform.fromConfig(loadConfig(env)).history(app)).map((d) => d.version)).toEqual([1]);
  });

  it('rollout --follow with a server that stays down past --reconnect-timeout: exit 4, "state unknown", never "failed"', async () => {
    const app = 'restart-drill-gone';
    const rollout = startCliRollout([writeSlowSpec(app), '--follow', '--reconnect-timeout', '3']);
    await killServerDuringHealth(app, rollout, '❯ Health: poll /health until 200');
    const result = await rollout.child;
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(
      new RegExp(
        `^rollout state unknown: still running as far as we know \\(the Temporal server did not answer for 3 s.*\\); follow it with \`glm-ops status ${app} --watch\``,
        'm',
      ),
    );
    expect(rollout.output()).toContain(`lost the Temporal server at 127.0.0.1:${port}, reconnecting`);
    expect(rollout.output()).toMatch(/Health: poll \/health until 200 — still running when the CLI lost track/);
    expect(rollout.output()).not.toMatch(/rollout failed|succeeded/);
  });
});
