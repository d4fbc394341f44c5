import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../src/devstack/dev-server';
import { freePort } from '../../src/net/free-port';
import { isProcessAlive } from '../../src/process/process-identity';
import type { TuneResult } from '../../src/shared/tune-types';
import { tune } from '../../src/workflows';
import { builtCliEntry } from '../helpers/built-lib';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testId } from '../helpers/temporal';
import { liveApps, tuneBaseSpec, tuneInputFor, waitForPendingActivity } from '../helpers/tune-stack';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(600_000);

/**
 * The Temporal server (on-disk SQLite, a server of this test's own) SIGKILLed during a trial's health wait and
 * restarted on the same port: the same worker process reconnects and the tune finishes with no trial repeated.
 */
describe('Temporal server SIGKILLed in the middle of a tune and restarted on its port', () => {
  let stack: LocalStack;
  let server: DevServer | undefined;
  let port: number;
  let worker: ChildProcess | undefined;
  let workerOutput = '';
  const serverLog = (): string => path.join(stack.home, 'temporal.log');
  const startServer = (): Promise<DevServer> =>
    startDevServer({
      dbFile: path.join(stack.home, 'temporal.db'),
      preferredPort: port,
      onPortTaken: (taken) => {
        throw new Error(`port ${taken} still taken`);
      },
      headless: true,
      logFile: serverLog(),
      detached: false,
    });

  /** Starts the server again on its port, once the killed one's socket has let go of it. */
  async function restartServer(): Promise<DevServer> {
    let restarted: DevServer | undefined;
    await waitFor(
      async () => {
        restarted = await startServer().catch(() => undefined);
        return restarted !== undefined;
      },
      { what: `the server back on port ${port}`, timeoutMs: 120_000, pollMs: 500 },
    );
    return restarted!;
  }

  beforeAll(async () => {
    stack = await startLocalStack();
    port = await freePort();
    server = await startServer();
    worker = spawn(process.execPath, [builtCliEntry(), 'worker', '--task-queue', 'tune-restart'], {
      env: { ...stack.env, TEMPORAL_ADDRESS: server.address },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [worker.stdout!, worker.stderr!]) {
      stream.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    }
    await waitFor(() => workerOutput.includes('worker polling'), { what: 'worker polling', timeoutMs: 60_000 });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    if (server && isProcessAlive(server.pid)) process.kill(server.pid, 'SIGKILL');
    await stack?.cleanup();
  });

  async function withClient<T>(body: (client: Client) => Promise<T>): Promise<T> {
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      return await body(new Client({ connection }));
    } finally {
      await connection.close();
    }
  }

  it('the tune finishes after the outage: every trial once, one version per candidate app, none left serving', async () => {
    const app = testId('tune-restart');
    // ~10 s of health wait per trial (1000 s of weight load at 1/100) to kill the server into.
    const spec = tuneBaseSpec(stack, app, (s) => {
      s.local.timeScale = 0.01;
      s.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
      s.health = { startupTimeout: 60, pollInterval: 0.2 };
    });
    const input = tuneInputFor(spec, { space: { args: { 'max-running-requests': [16, 48] } }, strategy: 'grid' });
    await withClient(async (client) => {
      await client.workflow.start(tune, { taskQueue: 'tune-restart', workflowId: input.tuneId, args: [input] });
      await waitForPendingActivity(client, `${input.tuneId}/trial-2`, 'waitForHealth').catch((err: unknown) => {
        throw new Error(`${String(err)}\nworker:\n${workerOutput.slice(-3000)}`);
      });
    });
    process.kill(server!.pid, 'SIGKILL');
    await waitFor(() => !isProcessAlive(server!.pid), { what: 'the server gone' });
    server = await restartServer();
    expect(server.port).toBe(port);

    const { result, children } = await withClient(async (client) => {
      const handle = client.workflow.getHandle(input.tuneId);
      const result: TuneResult = await handle.result();
      const history = await handle.fetchHistory();
      const children = (history.events ?? [])
        .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
        .filter((id): id is string => typeof id === 'string');
      return { result, children };
    });
    expect(result.state).toBe('finished');
    expect(result.trials.map((t) => [t.index, t.key, t.outcome, t.isTornDown])).toEqual([
      [1, 'max-running-requests=16', 'measured', true],
      [2, 'max-running-requests=48', 'measured', true],
    ]);
    expect(children).toEqual([`${input.tuneId}/trial-1`, `${input.tuneId}/trial-2`]);
    for (const trial of result.trials) {
      expect(await stack.platform.history(trial.app)).toHaveLength(1);
      expect(await stack.platform.currentDeployment(trial.app)).toBeNull();
    }
    expect(await liveApps(stack, `${app}-t`)).toEqual([]);
    expect(await stack.platform.history(app)).toEqual([]);
  });
});
