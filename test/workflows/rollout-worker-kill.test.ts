import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtCliEntry } from '../helpers/built-lib';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { status } from '../../src/shared/rollout-messages';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { recordHistory } from '../helpers/record-history';
import { testClient, testId, testTemporalAddress } from '../helpers/temporal';

jest.setTimeout(180_000);

/** A real worker process (the CLI's `worker` command from lib/), pointed at the test server and the stack. */
function startWorkerProcess(stack: LocalStack, taskQueue: string, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [builtCliEntry(), 'worker', '--task-queue', taskQueue], {
    env: { ...stack.env, TEMPORAL_ADDRESS: testTemporalAddress() },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  return child;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('worker SIGKILLed during the health wait', () => {
  let stack: LocalStack;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await stack?.cleanup();
  });

  it('a new worker resumes the heartbeating health wait and finishes the rollout with exactly one deploy', async () => {
    const app = testId('kill');
    const taskQueue = testId('tq-kill');
    const logFile = path.join(stack.home, 'workers.log');
    // Weight load of 1000 s engine time (under the 1200 s watchdog) at 1/100 speed: ~10 s of health wait.
    const spec = stack.specFor(app, (s) => {
      s.local.timeScale = 0.01;
      s.local.compile = { seconds: 100, shouldFail: false };
      s.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
      s.health = { startupTimeout: 60, pollInterval: 0.2 };
    });
    const { client, connection } = await testClient();
    try {
      const first = startWorkerProcess(stack, taskQueue, logFile);
      workers.push(first);
      const handle = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-kill' }],
      });
      await until(async () => {
        const description = await handle.describe();
        const health = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'waitForHealth');
        return health?.heartbeatDetails?.payloads?.length ? true : undefined;
      }, 90_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; workers log:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
      });
      expect((await handle.query(status)).phase).toBe('health');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));

      workers.push(startWorkerProcess(stack, taskQueue, logFile));
      const result: RolloutResult = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.deployedVersion).toBe(1);

      const history = await handle.fetchHistory();
      const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
      const named = (name: string) =>
        scheduled.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
      expect(named('deploy')).toBe(1);
      const started = (history.events ?? []).filter(
        (e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1,
      );
      expect(started.length).toBeGreaterThanOrEqual(1);
      expect(await stack.platform.history(app)).toHaveLength(1);
      expect(fs.readFileSync(logFile, 'utf8')).toContain('resuming after a retry');
      await recordHistory(handle, 'rollout-worker-killed-during-health');
    } finally {
      await connection.close();
    }
  });
});
