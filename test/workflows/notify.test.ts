import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { createNotifyActivities } from '../../src/activities/notify-activities';
import { ErrorType } from '../../src/shared/errors';
import type { NotifyInput, NotifyMessage, NotifyResult, NotifyWebhook } from '../../src/shared/notify-types';
import { NOTIFY_EVENTS } from '../../src/shared/notify-types';
import { notify } from '../../src/workflows';
import { startNotifyReceiver, type NotifyReceiver } from '../helpers/notify-receiver';
import { testId, withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(120_000);

const message: NotifyMessage = {
  event: 'promoted',
  app: 'notify-wf',
  version: 3,
  previousVersion: 2,
  servingVersion: 3,
  rolloutId: 'r-7',
  workflowId: 'rollout/notify-wf',
  runId: 'run-1',
  workflowType: 'rollout',
  time: '2026-12-02T01:00:00.000Z',
  summary: 'notify-wf: v3 (previous v2) serving; all steps passed in 1m 02s',
};

function webhook(name: string, format: NotifyWebhook['format']): NotifyWebhook {
  return { name, format, urlSecret: `${name}-url`, events: [...NOTIFY_EVENTS] };
}

/** The real delivery activity, reading each webhook's URL from the receivers by secret name. */
function activitiesFor(urls: Record<string, string>) {
  return createNotifyActivities({
    resolveSecret: (name) => {
      const url = urls[name];
      if (!url) throw new Error(`no secret ${name}`);
      return url;
    },
    requestTimeoutMs: 5_000,
  });
}

describe('the notify workflow (real Temporal, worker, delivery activity, HTTP receiver)', () => {
  const receivers: NotifyReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
  });

  it('retries a receiver that answers 503 until it accepts; every POST carries the same idempotency key', async () => {
    const receiver = await startNotifyReceiver({ answer: ({ index }) => (index < 2 ? 503 : 200) });
    receivers.push(receiver);
    const workflowId = `notify/${testId('rollout')}/r-7/promoted`;
    const input: NotifyInput = { message, webhooks: [webhook('ops', 'json')] };
    const { result, history } = await withWorker(
      activitiesFor({ 'ops-url': receiver.url }),
      async ({ client, taskQueue }) => {
        const result: NotifyResult = await client.workflow.execute(notify, { taskQueue, workflowId, args: [input] });
        const history = JSON.stringify(await client.workflow.getHandle(workflowId).fetchHistory());
        return { result, history };
      },
    );
    expect(result).toEqual({
      event: 'promoted',
      idempotencyKey: workflowId,
      deliveries: [{ webhook: 'ops', outcome: 'delivered', detail: 'HTTP 200 on attempt 3' }],
    });
    expect(receiver.posts.map((p) => [p.status, p.headers['idempotency-key']])).toEqual([
      [503, workflowId],
      [503, workflowId],
      [200, workflowId],
    ]);
    expect([...receiver.deliveredByKey().keys()]).toEqual([workflowId]);
    expect(history).not.toContain(receiver.url);
    expect(history).not.toContain(new URL(receiver.url).pathname);
  });

  it('a receiver that is down (not listening) gets the event once it is back, exactly once', async () => {
    const receiver = await startNotifyReceiver({ start: false });
    receivers.push(receiver);
    const workflowId = `notify/${testId('rollout')}/r-7/promoted`;
    const input: NotifyInput = { message, webhooks: [webhook('ops', 'slack')] };
    const result = await withWorker(activitiesFor({ 'ops-url': receiver.url }), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(notify, { taskQueue, workflowId, args: [input] });
      // Down for two attempts at least: the second attempt's failure is what the server reports as the last one.
      await waitFor(async () => ((await handle.describe()).raw.pendingActivities?.[0]?.attempt ?? 0) >= 3, {
        what: 'the delivery retried while the receiver is down',
        timeoutMs: 60_000,
        pollMs: 200,
      });
      expect(receiver.posts).toEqual([]);
      await receiver.listen();
      return (await handle.result()) as NotifyResult;
    });
    expect(result.deliveries).toEqual([
      { webhook: 'ops', outcome: 'delivered', detail: expect.stringMatching(/^HTTP 200 on attempt [3-9]\d*$/) },
    ]);
    expect(receiver.posts).toHaveLength(1);
    expect(receiver.posts[0]!.headers['idempotency-key']).toBe(workflowId);
    expect((receiver.posts[0]!.body as { text: string }).text).toBe(
      ':white_check_mark: notify-wf: v3 promoted: notify-wf: v3 (previous v2) serving; all steps passed in 1m 02s',
    );
  });

  it('a webhook that refuses (404) fails the notify workflow (NotificationFailed); the other webhook still gets it', async () => {
    const good = await startNotifyReceiver();
    const refusing = await startNotifyReceiver({ answer: () => 404 });
    receivers.push(good, refusing);
    const workflowId = `notify/${testId('rollout')}/r-7/promoted`;
    const input: NotifyInput = { message, webhooks: [webhook('ops', 'json'), webhook('chat', 'slack')] };
    const err = await withWorker(
      activitiesFor({ 'ops-url': good.url, 'chat-url': refusing.url }),
      ({ client, taskQueue }) =>
        client.workflow.execute(notify, { taskQueue, workflowId, args: [input] }).then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(ErrorType.NotificationFailed);
    expect(cause.message).toBe(
      `promoted of rollout/notify-wf not delivered to chat (webhook "chat" (secret chat-url) answered 404 try later: check the URL in secret chat-url)`,
    );
    // A refusal is final: one POST, no retry.
    expect(refusing.posts).toHaveLength(1);
    expect(good.posts).toHaveLength(1);
    expect(good.posts[0]!.status).toBe(200);
  });
});
