import { ServiceError, WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isServerUnreachable, resultThroughOutages } from '../../src/cli/result-through-outages';

/** What the client throws when the server is down: a ServiceError around a gRPC UNAVAILABLE. */
function unavailable(): ServiceError {
  const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: '' });
  return new ServiceError('Failed to get Workflow execution history', { cause: grpc });
}

/** A handle whose result() and describe() play the given scripts (the last entry repeats). */
function scriptedHandle(results: Array<() => unknown>, describes: Array<() => unknown>): WorkflowHandle {
  let r = 0;
  let d = 0;
  const next = async (script: Array<() => unknown>, index: number) => script[Math.min(index, script.length - 1)]!();
  return {
    workflowId: 'rollout/outage-test',
    result: () => next(results, r++),
    describe: () => next(describes, d++),
  } as unknown as WorkflowHandle;
}

const policy = (lines: string[], reconnectForMs = 5_000) => ({
  address: '127.0.0.1:7999',
  reconnectForMs,
  initialBackoffMs: 1,
  maxBackoffMs: 5,
  onLine: (line: string) => lines.push(line),
});

test('isServerUnreachable: transport failures through the wrapping, not answers from the server', () => {
  expect(isServerUnreachable(unavailable())).toBe(true);
  expect(isServerUnreachable(new Error('connect ECONNREFUSED 127.0.0.1:7233'))).toBe(true);
  expect(isServerUnreachable(new WorkflowNotFoundError('gone', 'rollout/x', undefined))).toBe(false);
  const denied = Object.assign(new Error('7 PERMISSION_DENIED: no'), { code: 7, details: '' });
  expect(isServerUnreachable(new ServiceError('Failed to get Workflow execution history', { cause: denied }))).toBe(
    false,
  );
});

test('an outage is ridden out: lost, reconnected, then the result', async () => {
  const lines: string[] = [];
  const handle = scriptedHandle(
    [
      () => {
        throw unavailable();
      },
      () => ({ outcome: 'succeeded' }),
    ],
    [
      () => {
        throw unavailable();
      },
      () => {
        throw unavailable();
      },
      () => ({ status: { name: 'RUNNING' } }),
    ],
  );
  await expect(resultThroughOutages(handle, policy(lines))).resolves.toEqual({
    kind: 'completed',
    result: { outcome: 'succeeded' },
  });
  expect(lines).toEqual([
    'lost the Temporal server at 127.0.0.1:7999, reconnecting…',
    expect.stringMatching(/^reconnected to the Temporal server at 127\.0\.0\.1:7999 after \d+ s/),
  ]);
});

test("the workflow's own failure is `failed`; a server that never answers, or forgot the workflow, is `unknown`", async () => {
  const failure = new WorkflowFailedError(
    'failed',
    ApplicationFailure.create({ type: 'HealthTimeout' }),
    'NON_RETRYABLE_FAILURE',
  );
  const failed = scriptedHandle([() => Promise.reject(failure)], []);
  await expect(resultThroughOutages(failed, policy([]))).resolves.toMatchObject({ kind: 'failed', error: failure });

  const lines: string[] = [];
  const down = scriptedHandle([() => Promise.reject(unavailable())], [() => Promise.reject(unavailable())]);
  const gaveUp = await resultThroughOutages(down, policy(lines, 30));
  expect(gaveUp).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/did not answer for 0 s/) });
  expect(lines).toEqual(['lost the Temporal server at 127.0.0.1:7999, reconnecting…']);

  const forgotten = scriptedHandle(
    [() => Promise.reject(unavailable())],
    [() => Promise.reject(new WorkflowNotFoundError('not found', 'rollout/outage-test', undefined))],
  );
  await expect(resultThroughOutages(forgotten, policy([]))).resolves.toMatchObject({
    kind: 'unknown',
    reason: expect.stringContaining('came back without workflow rollout/outage-test'),
  });
});
