import { ApplicationFailure, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { NotifyDelivery, NotifyInput, NotifyResult } from '../shared/notify-types';
import { describeFailure } from './failure-description';
import { notification } from './retry-profiles';

const deliver = proxyActivities<Activities>(notification);

/**
 * Delivers one event of a rollout (an upgrade, a rollback) to every webhook that listens for it, each on its own,
 * retried with backoff for up to an hour. Started by the run as an abandoned child, so the run never waits for it;
 * its workflow id is the event's (`notify/<workflowId>/<rolloutId>/<event>`), which the server keeps unique, and the
 * `Idempotency-Key` of every POST, so a receiver dedupes a POST it accepted but whose answer was lost. Fails
 * (NotificationFailed) when a webhook never accepted the event, so the workflow list shows it.
 */
export async function notify(input: NotifyInput): Promise<NotifyResult> {
  const { message, webhooks } = input;
  const idempotencyKey = workflowInfo().workflowId;
  setCurrentDetails(`${message.event} of ${message.workflowId}: ${message.summary}`);
  const deliveries = await Promise.all(
    webhooks.map(async (webhook): Promise<NotifyDelivery> => {
      try {
        const answer = await deliver.deliverNotification.executeWithOptions(
          { summary: `POST ${message.event} to ${webhook.name} (${webhook.format})` },
          [
            {
              webhook: { name: webhook.name, format: webhook.format, urlSecret: webhook.urlSecret },
              message,
              idempotencyKey,
            },
          ],
        );
        return {
          webhook: webhook.name,
          outcome: 'delivered',
          detail: `HTTP ${answer.status} on attempt ${answer.attempt}`,
        };
      } catch (err) {
        return { webhook: webhook.name, outcome: 'failed', detail: describeFailure(err).message };
      }
    }),
  );
  const failed = deliveries.filter((d) => d.outcome === 'failed');
  const result: NotifyResult = { event: message.event, idempotencyKey, deliveries };
  setCurrentDetails(deliveries.map((d) => `${d.webhook}: ${d.outcome} (${d.detail})`).join('\n'));
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: ErrorType.NotificationFailed,
      nonRetryable: true,
      message: `${message.event} of ${message.workflowId} not delivered to ${failed.map((d) => `${d.webhook} (${d.detail})`).join('; ')}`,
      details: [result],
    });
  }
  return result;
}
