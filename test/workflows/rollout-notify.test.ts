import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { upgradeId } from '../../src/schedules/upgrade-schedule';
import { ErrorType } from '../../src/shared/errors';
import type { NotifyEvent, NotifyMessage } from '../../src/shared/notify-types';
import type { RolloutResult } from '../../src/shared/rollout-types';
import type { Spec } from '../../src/spec/schema';
import { decide } from '../../src/shared/performance-messages';
import { rollbackApp, rollout, upgrade } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { startNotifyReceiver, type NotifyReceiver, type ReceivedPost } from '../helpers/notify-receiver';
import { testId, withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(240_000);

/** The local demo's drill image: its engine is OOM-killed while loading (exit -9). */
const DRILL_OOM_IMAGE = 'lmsysorg/sglang:v0.5.11-drill-oom';

/** The events a receiver delivered (2xx), by idempotency key: each key once is "exactly once per event". */
function deliveredEvents(receiver: NotifyReceiver): Array<[string, NotifyEvent, number]> {
  return [...receiver.deliveredByKey().entries()]
    .map(([key, posts]): [string, NotifyEvent, number] => [key, eventOf(posts[0]!), posts.length])
    .sort(([a], [b]) => a.localeCompare(b));
}

function eventOf(post: ReceivedPost): NotifyEvent {
  return String(post.headers['x-glm-ops-event']) as NotifyEvent;
}

function delivered(receiver: NotifyReceiver, event: NotifyEvent): ReceivedPost[] {
  return receiver.posts.filter((post) => eventOf(post) === event && post.status === 200);
}

/** The full histories of a run and of its notify children: where a leaked URL would show. */
async function historiesOf(client: Client, workflowIds: string[]): Promise<string> {
  const texts = await Promise.all(
    workflowIds.map(async (id) => JSON.stringify(await client.workflow.getHandle(id).fetchHistory())),
  );
  return texts.join('\n');
}

describe('rollout notifications (real Temporal, worker, platform daemon, emulator, HTTP receivers)', () => {
  let stack: LocalStack;
  const receivers: NotifyReceiver[] = [];
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  /** A receiver whose URL is the secret `<name>` of the stack (the worker resolves it; the spec names it). */
  async function receiverAsSecret(name: string, options: Parameters<typeof startNotifyReceiver>[0] = {}) {
    const receiver = await startNotifyReceiver(options);
    receivers.push(receiver);
    stack.secrets.ensureLocal(name, () => receiver.url);
    return receiver;
  }

  it('a successful rollout: started and promoted, once each, to a JSON webhook that is down at first and a Slack one; no history holds a URL', async () => {
    const app = testId('notify-ok');
    const jsonSecret = `${app}-json`;
    const slackSecret = `${app}-slack`;
    // Down for the first POST of every event (503), as a receiver restarting: the delivery retries it.
    const json = await receiverAsSecret(jsonSecret, {
      answer: ({ sameKeyBefore }) => (sameKeyBefore === 0 ? 503 : 200),
    });
    const slack = await receiverAsSecret(slackSecret);
    const spec: Spec = stack.specFor(app, (s) => {
      s.notify = [
        { name: 'ops', format: 'json', urlSecret: jsonSecret, events: ['started', 'promoted', 'failed'] },
        { format: 'slack', urlSecret: slackSecret, events: ['started', 'promoted', 'failed', 'rolled-back'] },
      ];
    });
    const { result, histories } = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const result: RolloutResult = await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-ok', requestedBy: 'alice' }],
      });
      await waitFor(() => delivered(json, 'promoted').length + delivered(slack, 'promoted').length === 2, {
        what: 'promoted delivered to both webhooks',
        timeoutMs: 90_000,
      });
      const histories = await historiesOf(client, [
        `rollout/${app}`,
        `notify/rollout/${app}/r-ok/started`,
        `notify/rollout/${app}/r-ok/promoted`,
      ]);
      return { result, histories };
    });
    expect(result.outcome).toBe('succeeded');
    // Each event was POSTed twice to the flaky one (503, then 200), and delivered once.
    expect(json.posts.map((p) => [eventOf(p), p.status]).sort()).toEqual([
      ['promoted', 200],
      ['promoted', 503],
      ['started', 200],
      ['started', 503],
    ]);
    expect(deliveredEvents(json)).toEqual([
      [`notify/rollout/${app}/r-ok/promoted`, 'promoted', 1],
      [`notify/rollout/${app}/r-ok/started`, 'started', 1],
    ]);
    expect(deliveredEvents(slack).map(([, event, count]) => [event, count])).toEqual([
      ['promoted', 1],
      ['started', 1],
    ]);
    const promoted = delivered(json, 'promoted')[0]!.body as NotifyMessage & { idempotencyKey: string };
    expect(promoted).toMatchObject({
      event: 'promoted',
      app,
      version: 1,
      servingVersion: 1,
      rolloutId: 'r-ok',
      requestedBy: 'alice',
      workflowId: `rollout/${app}`,
      workflowType: 'rollout',
      summary: result.summary,
      idempotencyKey: `notify/rollout/${app}/r-ok/promoted`,
    });
    expect(promoted.runId).toMatch(/^[0-9a-f-]{36}$/);
    const slackStarted = delivered(slack, 'started')[0]!.body as { text: string; blocks: { type: string }[] };
    expect(slackStarted.text).toMatch(new RegExp(`^:rocket: ${app}: rollout started: ${app}: rollout of `));
    expect(slackStarted.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    for (const receiver of [json, slack]) {
      expect(histories).not.toContain(receiver.url);
      expect(histories).not.toContain(new URL(receiver.url).pathname);
    }
    expect(histories).toContain(jsonSecret);
  });

  it('a failing upgrade (the demo’s OOM drill image): failed with the diagnosis and rolled-back, once each; then rollbackApp tells rolled-back', async () => {
    const app = testId('notify-oom');
    const secret = `${app}-json`;
    const receiver = await receiverAsSecret(secret);
    const spec: Spec = stack.specFor(app, (s) => {
      s.notify = [{ format: 'json', urlSecret: secret, events: ['failed', 'rolled-back', 'compensation-failed'] }];
    });
    const upgradeWorkflowId = upgradeId(app, 'drill');
    const { upgradeFailure, histories } = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-1' }],
      });
      const upgradeFailure = await client.workflow
        .execute(upgrade, {
          taskQueue,
          workflowId: upgradeWorkflowId,
          args: [{ app, platform: 'local', request: { sglangImage: DRILL_OOM_IMAGE }, upgradeId: 'u-oom' }],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await waitFor(() => receiver.deliveredByKey().size === 2, {
        what: 'failed and rolled-back delivered',
        timeoutMs: 90_000,
      });
      // The incident path: back to v1 again from a v3 rolled out meanwhile.
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-3' }],
      });
      const rollbackId = `rollback/${app}/now`;
      await client.workflow.execute(rollbackApp, {
        taskQueue,
        workflowId: rollbackId,
        args: [{ app, platform: 'local', toVersion: 1, requestedBy: 'bob' }],
      });
      await waitFor(() => receiver.deliveredByKey().size === 3, { what: 'the rollback delivered', timeoutMs: 90_000 });
      const histories = await historiesOf(client, [
        `rollout/${app}`,
        upgradeWorkflowId,
        rollbackId,
        `notify/rollout/${app}/u-oom/failed`,
        `notify/rollout/${app}/u-oom/rolled-back`,
        `notify/${rollbackId}/rolled-back`,
      ]);
      return { upgradeFailure, histories };
    });
    expect(upgradeFailure).toBeInstanceOf(WorkflowFailedError);
    expect(((upgradeFailure as WorkflowFailedError).cause as ApplicationFailure).type).toBe(
      ErrorType.UpgradeRolledBack,
    );
    expect(deliveredEvents(receiver)).toEqual([
      [`notify/rollback/${app}/now/rolled-back`, 'rolled-back', 1],
      [`notify/rollout/${app}/u-oom/failed`, 'failed', 1],
      [`notify/rollout/${app}/u-oom/rolled-back`, 'rolled-back', 1],
    ]);
    const failed = delivered(receiver, 'failed')[0]!.body as NotifyMessage;
    expect(failed).toMatchObject({
      event: 'failed',
      app,
      version: 2,
      previousVersion: 1,
      servingVersion: 1,
      rolloutId: 'u-oom',
      requestedBy: 'upgrade u-oom',
      workflowType: 'rollout',
      cause: { type: ErrorType.EngineCrashed },
    });
    expect(failed.diagnoses?.length).toBeGreaterThan(0);
    expect(failed.diagnoses!.map((d) => d.resolution).join(' ')).toMatch(/mem-fraction-static/);
    const rolledBack = receiver.posts
      .filter((p) => p.status === 200 && eventOf(p) === 'rolled-back')
      .map((p) => p.body as NotifyMessage);
    expect(rolledBack.map((m) => [m.workflowType, m.servingVersion, m.previousVersion])).toEqual([
      ['rollout', 1, 1],
      ['rollbackApp', 1, 3],
    ]);
    expect(rolledBack[1]!.summary).toMatch(
      new RegExp(`^${app}: rolled back from v3 to v1, healthy on attempt \\d+ \\(by bob\\)$`),
    );
    expect(histories).not.toContain(receiver.url);
    expect(histories).not.toContain(new URL(receiver.url).pathname);
  });

  it('a receiver that never answers changes nothing: the rollout succeeds while its notifications still wait', async () => {
    const app = testId('notify-hang');
    const secret = `${app}-json`;
    const receiver = await receiverAsSecret(secret, { answer: () => 'hang' });
    const spec: Spec = stack.specFor(app, (s) => {
      s.notify = [{ format: 'json', urlSecret: secret, events: ['started', 'promoted'] }];
    });
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const result: RolloutResult = await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-hang' }],
      });
      expect(result.outcome).toBe('succeeded');
      expect(result.deployedVersion).toBe(1);
      const notifications = ['started', 'promoted'].map((event) =>
        client.workflow.getHandle(`notify/rollout/${app}/r-hang/${event}`),
      );
      // The rollout ended; its notifications are still trying (abandoned children, not waited for).
      for (const handle of notifications) expect((await handle.describe()).status.name).toBe('RUNNING');
      await waitFor(() => receiver.posts.length >= 2, {
        what: 'both POSTs reached the silent receiver',
        timeoutMs: 60_000,
      });
      expect(receiver.posts.every((p) => p.status === undefined)).toBe(true);
      for (const handle of notifications) await handle.terminate('test over: the receiver never answers');
    });
  });

  it('an inconclusive performance gate: waiting-for-approval with the question, then promoted once a person decides', async () => {
    const app = testId('notify-ask');
    const secret = `${app}-json`;
    const receiver = await receiverAsSecret(secret);
    const spec: Spec = stack.specFor(app, (s) => {
      s.notify = [{ format: 'json', urlSecret: secret, events: ['waiting-for-approval', 'promoted'] }];
      // A prompts file the worker cannot read: the load cannot run, so the gate has no evidence and asks.
      s.slo.enabled = true;
      s.slo.load = { ...s.slo.load, dataset: { name: 'jsonl', path: `/nonexistent/${app}/prompts.jsonl` } };
      s.slo.onInconclusive = { timeout: 600, default: 'abort' };
    });
    const result = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-ask' }],
      });
      await waitFor(() => delivered(receiver, 'waiting-for-approval').length === 1, {
        what: 'waiting-for-approval delivered while the gate waits',
        timeoutMs: 120_000,
      });
      await handle.executeUpdate(decide, {
        args: [{ decision: 'promote', reason: 'prompts live elsewhere', by: 'carol' }],
      });
      const result: RolloutResult = await handle.result();
      await waitFor(() => delivered(receiver, 'promoted').length === 1, {
        what: 'promoted delivered',
        timeoutMs: 90_000,
      });
      return result;
    });
    expect(result.outcome).toBe('succeeded');
    const asked = delivered(receiver, 'waiting-for-approval')[0]!.body as NotifyMessage;
    expect(asked).toMatchObject({
      event: 'waiting-for-approval',
      version: 1,
      summary: `${app}: the performance gate of v1 is inconclusive and waits for a decision`,
      question: { defaultDecision: 'abort', howToAnswer: `glm-ops decide ${app} promote|abort --reason "…"` },
    });
    expect(asked.question!.reasons.join(' ')).toMatch(/the load could not run/);
    expect(deliveredEvents(receiver).map(([key, , count]) => [key, count])).toEqual([
      [`notify/rollout/${app}/r-ask/promoted`, 1],
      [`notify/rollout/${app}/r-ask/waiting-for-approval`, 1],
    ]);
  });
});
