import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { waitForCtimePast } from '../helpers/fs-clock';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

/**
 * Issue 14, item 2: after a successful rollout a shard is corrupted in place (same size). The next rollout used to
 * say "sentinel valid, download skipped" and deploy the corrupt weights; it must re-hash the touched shard and fetch
 * it again, and say so.
 */
describe('the weights phase never trusts a stale sentinel (real Temporal, worker, daemon, emulator, hub)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('a shard corrupted in place after a rollout is re-hashed and re-downloaded by the next one, which says so', async () => {
    const app = testId('weights-stale');
    const spec = stack.specFor(app);
    const run = (rolloutId: string) =>
      withWorker(stack.activities, ({ client, taskQueue }) =>
        client.workflow.execute(rollout, {
          taskQueue,
          workflowId: `rollout/${app}`,
          args: [{ spec, rolloutId }],
        }),
      );
    const first: RolloutResult = await run('w-1');
    expect(first.outcome).toBe('succeeded');

    const committed = await stack.platform.weightsStatus(spec);
    expect(committed).toMatchObject({ state: 'valid', rehashed: [] });
    const shard = fs
      .readdirSync(committed.path)
      .filter((name) => name.endsWith('.safetensors'))
      .sort()[0]!;
    const target = path.join(committed.path, shard);
    const sizeBefore = fs.statSync(target).size;
    await waitForCtimePast(committed.path, fs.statSync(target, { bigint: true }).ctimeNs);
    const handle = fs.openSync(target, 'r+');
    fs.writeSync(handle, Buffer.from('corrupt!'), 0, 8, 4096);
    fs.closeSync(handle);
    expect(fs.statSync(target).size).toBe(sizeBefore);

    const requestsBefore = stack.hub.requests.length;
    const second: RolloutResult = await run('w-2');
    expect(second.outcome).toBe('succeeded');
    const weights = second.phases.find((phase) => phase.name === 'weights')!;
    expect(weights.state).toBe('done');
    expect(weights.detail).toContain(`re-hashed 1: ${shard} (mtime, ctime)`);
    expect(weights.detail).toContain(`sha256 no longer matched the sentinel, re-downloaded: ${shard}`);
    const fetched = stack.hub.requests
      .slice(requestsBefore)
      .filter((request) => request.file.endsWith('.safetensors'))
      .map((request) => request.file);
    expect(fetched).toEqual([shard]);
    expect(await stack.platform.weightsStatus(spec, { full: true })).toMatchObject({ state: 'valid' });

    // Nothing touched since: the third rollout re-hashes nothing and skips the download.
    const third: RolloutResult = await run('w-3');
    const untouched = third.phases.find((phase) => phase.name === 'weights')!;
    expect(untouched.state).toBe('skipped');
    expect(untouched.detail).toMatch(/^sentinel valid \(\d+ files\), download skipped; volume committed$/);
  });
});
