import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tuneStatusQuery } from '../../src/shared/tune-messages';
import type { TuneResult } from '../../src/shared/tune-types';
import { tune } from '../../src/workflows';
import { builtCliEntry } from '../helpers/built-lib';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testClient, testId, testTemporalAddress } from '../helpers/temporal';
import { liveApps, tuneBaseSpec, tuneInputFor, waitForPendingActivity } from '../helpers/tune-stack';

jest.setTimeout(600_000);

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

describe('worker SIGKILLed in the middle of a tune (during a trial’s health wait)', () => {
  let stack: LocalStack;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await stack?.cleanup();
  });

  it('a new worker resumes the tune: no trial repeated, each candidate deployed once, none left running', async () => {
    const app = testId('tune-kill');
    const taskQueue = testId('tq-tune-kill');
    const logFile = path.join(stack.home, 'workers.log');
    // A weight load of 1000 s engine time at 1/100 speed: each trial's health wait lasts ~10 s, long enough to kill in.
    const spec = tuneBaseSpec(stack, app, (s) => {
      s.local.timeScale = 0.01;
      s.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
    });
    const input = tuneInputFor(spec, { space: { args: { 'max-running-requests': [16, 32, 48] } }, strategy: 'grid' });
    const { client, connection } = await testClient();
    try {
      const first = startWorkerProcess(stack, taskQueue, logFile);
      workers.push(first);
      const handle = await client.workflow.start(tune, { taskQueue, workflowId: input.tuneId, args: [input] });
      await waitForPendingActivity(client, `${input.tuneId}/trial-2`, 'waitForHealth').catch((err: unknown) => {
        throw new Error(`${String(err)}; workers log:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
      });
      const during = await handle.query(tuneStatusQuery);
      expect(during.trials.map((t) => t.index)).toEqual([1]);
      expect(during.running.map((t) => t.app)).toEqual([`${app}-t2`]);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));

      workers.push(startWorkerProcess(stack, taskQueue, logFile));
      const result: TuneResult = await handle.result();
      expect(result.state).toBe('finished');
      expect(result.trials.map((t) => [t.index, t.key, t.outcome, t.isTornDown])).toEqual([
        [1, 'max-running-requests=16', 'measured', true],
        [2, 'max-running-requests=32', 'measured', true],
        [3, 'max-running-requests=48', 'measured', true],
      ]);

      // One child workflow per trial, each started once.
      const history = await handle.fetchHistory();
      const children = (history.events ?? [])
        .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
        .filter((id): id is string => typeof id === 'string');
      expect(children).toEqual([1, 2, 3].map((n) => `${input.tuneId}/trial-${n}`));
      // The killed trial's health wait was retried on the new worker, its deploy was not: one version per candidate.
      const killed = await client.workflow.getHandle(`${input.tuneId}/trial-2`).fetchHistory();
      const retried = (killed.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
      expect(retried.length).toBeGreaterThanOrEqual(1);
      for (const trial of result.trials) {
        expect(await stack.platform.history(trial.app)).toHaveLength(1);
        expect(await stack.platform.currentDeployment(trial.app)).toBeNull();
      }
      expect(await liveApps(stack, `${app}-t`)).toEqual([]);
      expect(await stack.platform.history(app)).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});
