import { MockActivityEnvironment } from '@temporalio/testing';
import { createNotifyActivities } from '../../src/activities/notify-activities';
import type { SlackNotificationBody } from '../../src/activities/notify-bodies';
import { ErrorType } from '../../src/shared/errors';
import type { DeliverNotificationInput, NotifyMessage } from '../../src/shared/notify-types';
import { freePort } from '../../src/net/free-port';
import { startNotifyReceiver, type NotifyReceiver } from '../helpers/notify-receiver';

const message: NotifyMessage = {
  event: 'failed',
  app: 'notify-demo',
  version: 2,
  previousVersion: 1,
  servingVersion: 1,
  rolloutId: 'r-42',
  workflowId: 'rollout/notify-demo',
  runId: '0190-run',
  workflowType: 'rollout',
  time: '2026-12-02T01:00:00.000Z',
  summary: 'engine exited with code -9 <OOM> & died',
  cause: { type: ErrorType.EngineCrashed, message: 'engine exited with code -9' },
  diagnoses: [
    {
      title: 'CUDA out of memory',
      resolution: 'lower --mem-fraction-static',
      guideSection: '§18',
      fix: 'lower --mem-fraction-static 0.88 → 0.85',
    },
  ],
};

function input(format: 'json' | 'slack'): DeliverNotificationInput {
  return {
    webhook: { name: 'ops', format, urlSecret: 'ops-hook' },
    message,
    idempotencyKey: 'notify/rollout/x/r-42/failed',
  };
}

function deliverWith(url: string, temporalUi?: { uiUrl: string; namespace: string }) {
  return createNotifyActivities({
    resolveSecret: (name) => {
      if (name !== 'ops-hook') throw new Error(`unexpected secret ${name}`);
      return url;
    },
    temporalUi,
    requestTimeoutMs: 2_000,
  }).deliverNotification;
}

async function failureOf(promise: Promise<unknown>): Promise<{ type?: string; message: string }> {
  return promise.then(
    () => {
      throw new Error('expected the delivery to fail');
    },
    (err: { type?: string; message: string }) => err,
  );
}

describe('deliverNotification against a real HTTP receiver', () => {
  let receiver: NotifyReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('POSTs the JSON body with the idempotency key, the event header and the Temporal UI link', async () => {
    receiver = await startNotifyReceiver();
    const deliver = deliverWith(receiver.url, { uiUrl: 'http://127.0.0.1:8233', namespace: 'default' });
    const answer = (await new MockActivityEnvironment().run(deliver, input('json'))) as { status: number };
    expect(answer.status).toBe(200);
    expect(receiver.posts).toHaveLength(1);
    const [post] = receiver.posts;
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.headers['idempotency-key']).toBe('notify/rollout/x/r-42/failed');
    expect(post!.headers['x-glm-ops-event']).toBe('failed');
    expect(post!.body).toEqual({
      ...message,
      idempotencyKey: 'notify/rollout/x/r-42/failed',
      link: 'http://127.0.0.1:8233/namespaces/default/workflows/rollout%2Fnotify-demo/0190-run/history',
    });
  });

  it('POSTs a Slack incoming-webhook message: fallback text, a header, mrkdwn sections (escaped), a context line', async () => {
    receiver = await startNotifyReceiver();
    await new MockActivityEnvironment().run(deliverWith(receiver.url), input('slack'));
    const body = receiver.posts[0]!.body as SlackNotificationBody;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toBe(':x: notify-demo: rollout of v2 failed: engine exited with code -9 <OOM> & died');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context']);
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':x: notify-demo: rollout of v2 failed', emoji: true },
    });
    expect(body.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'engine exited with code -9 &lt;OOM&gt; &amp; died' },
    });
    expect(body.blocks[3]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '*Diagnosis*\n• CUDA out of memory: lower --mem-fraction-static (§18) fix: lower --mem-fraction-static 0.88 → 0.85',
      },
    });
    const context = body.blocks[4] as { elements: { type: string; text: string }[] };
    expect(context.elements).toEqual([
      { type: 'mrkdwn', text: 'rollout/notify-demo · r-42 · 2026-12-02T01:00:00.000Z' },
    ]);
  });

  it('a 503 is a retryable TransportError; a 404 is a final WebhookRefused; neither message holds the URL', async () => {
    receiver = await startNotifyReceiver({ answer: ({ index }) => (index === 0 ? 503 : 404) });
    const unavailable = await failureOf(new MockActivityEnvironment().run(deliverWith(receiver.url), input('json')));
    expect(unavailable.type).toBe(ErrorType.TransportError);
    expect(unavailable.message).toBe('webhook "ops" (secret ops-hook) answered 503 try later');
    const refused = await failureOf(new MockActivityEnvironment().run(deliverWith(receiver.url), input('json')));
    expect(refused.type).toBe(ErrorType.WebhookRefused);
    expect(refused.message).toBe(
      'webhook "ops" (secret ops-hook) answered 404 try later: check the URL in secret ops-hook',
    );
    const token = new URL(receiver.url).pathname;
    expect(`${unavailable.message}${refused.message}`).not.toContain(token);
  });

  it('a receiver that is not listening is a retryable TransportError naming the code, not the address', async () => {
    const url = `http://127.0.0.1:${await freePort()}/services/T0/B0/not-listening-secret`;
    const failure = await failureOf(new MockActivityEnvironment().run(deliverWith(url), input('json')));
    expect(failure.type).toBe(ErrorType.TransportError);
    expect(failure.message).toBe('webhook "ops" (secret ops-hook) could not be reached: ECONNREFUSED');
  });

  it('a receiver that never answers is given up on after the request timeout (retryable)', async () => {
    receiver = await startNotifyReceiver({ answer: () => 'hang' });
    const failure = await failureOf(new MockActivityEnvironment().run(deliverWith(receiver.url), input('json')));
    expect(failure.type).toBe(ErrorType.TransportError);
    expect(failure.message).toBe('webhook "ops" (secret ops-hook) could not be reached: no answer within 2 s');
    expect(receiver.posts).toHaveLength(1);
  });

  it('a secret that holds no http(s) URL is refused without quoting it', async () => {
    const failure = await failureOf(
      new MockActivityEnvironment().run(deliverWith('hooks.example.com/services/s3cr3t-token'), input('json')),
    );
    expect(failure.type).toBe(ErrorType.PlatformUnavailable);
    expect(failure.message).toBe(
      'webhook "ops" (secret ops-hook) does not hold a URL: write the webhook\'s http(s) URL into the secret',
    );
  });
});
