import type { WorkflowHandle } from '@temporalio/client';
import { liveActivityLine, pendingHeartbeats } from '../../src/cli/live-activity';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testId, withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(240_000);

/**
 * The live line `rollout --follow` and `status --watch` show, read the way they read it: the described workflow's
 * pending activity heartbeats, from a real rollout (real server, worker, daemon, a hub serving at 1 MB/s, emulator).
 * The unit tests pin the wording; this one proves the heartbeats that reach the server carry what the line needs.
 */
describe('the live line of a running rollout, from the server', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ faults: [{ kind: 'slow', file: '*', bytesPerSec: 1_000_000 }], sizeMB: 8 });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('shows the download bytes, percent, files, rate and ETA, then the /health attempt against the timeout', async () => {
    const app = testId('live');
    const spec = stack.specFor(app, (s) => {
      // ~10 s of weight loading at the stack's time scale: a health wait with several attempts to read.
      s.local.emulator = { faults: [{ kind: 'slow-load', factor: 20 }] };
      s.health = { startupTimeout: 120, pollInterval: 0.2 };
    });
    const lineOf = async (handle: WorkflowHandle): Promise<string | undefined> =>
      liveActivityLine(pendingHeartbeats((await handle.describe()).raw), {
        nowMs: Date.now(),
        startupTimeoutSec: spec.health.startupTimeout,
      });
    const seen: string[] = [];
    const matched: string[] = [];
    const result = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-live' }],
      });
      const sees = (pattern: RegExp, what: string) =>
        waitFor(
          async () => {
            const line = await lineOf(handle);
            if (line) seen.push(line);
            if (line === undefined || !pattern.test(line)) return false;
            matched.push(line);
            return true;
          },
          { what, timeoutMs: 120_000, pollMs: 200 },
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}; the last lines seen: ${seen.slice(-5).join(' | ') || 'none'}`);
        });
      await sees(
        /^download [\d.]+ (B|kB|MB) \/ [\d.]+ MB \(\d+\.\d %\), \d+ of \d+ files, [\d.]+ (B|kB|MB)\/s, ETA /,
        'bytes',
      );
      await sees(/^\/health attempt \d+, polled [\d.]+ (s|min) of the 2\.0 min startup timeout$/, 'the health line');
      return (await handle.result()) as RolloutResult;
    });
    expect(result.outcome).toBe('succeeded');
    const [download] = matched;
    // The total is the fixture checkpoint's size, as the hub serves it (8 MB of shards plus the small files).
    expect(download).toMatch(/ \/ 8\.\d+ MB /);
    expect(download).toMatch(/, ETA [\d.]+ (s|min)$/);
  });
});
