import * as z from 'zod';
import { NOTIFY_EVENTS, NOTIFY_FORMATS } from '../shared/notify-types';

// The spec's `notify:` section: webhooks that hear a rollout's events. Kept beside schema.ts, as the gate's and the
// tuner's parts are. A webhook URL is a credential (a Slack incoming-webhook URL carries its token), so the spec names
// the secret that holds it, as `secrets.apiKey` names the API key's.

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The NAME of the secret holding the webhook's URL (`GLM_OPS_SECRET_<NAME>` or `<state>/secrets/<name>` on the
 * worker). A URL written here is refused without being echoed: it would otherwise be quoted into terminals and logs.
 */
const UrlSecretName = z
  .string()
  .min(1)
  .max(63)
  .superRefine((name, context) => {
    if (/:\/\/|^https?:/i.test(name)) {
      context.addIssue({
        code: 'custom',
        message:
          'holds a URL: a webhook URL is a credential, so put it in a secret and write the secret’s NAME here (e.g. urlSecret: slack-webhook)',
      });
    } else if (!SECRET_NAME.test(name)) {
      context.addIssue({ code: 'custom', message: 'must be a secret name: letters, digits, ".", "_", "-"' });
    }
  });

/** One webhook: where (by secret name), in which body format, and which events. */
export const NotifyWebhookSpec = z.strictObject({
  /** How messages name the webhook. @default the secret's name */
  name: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'must hold only letters, digits, spaces, ".", "_", "-"')
    .optional(),
  /** `json`: glm-ops' own body; `slack`: a Slack incoming-webhook message (`text` and `blocks`). */
  format: z.enum(NOTIFY_FORMATS),
  /** The secret holding the URL. @example slack-webhook */
  urlSecret: UrlSecretName,
  /** The events it hears. @default every event */
  events: z
    .array(z.enum(NOTIFY_EVENTS))
    .min(1)
    .max(NOTIFY_EVENTS.length)
    .superRefine((events, context) => {
      const seen = new Set<string>();
      events.forEach((event, index) => {
        if (seen.has(event)) context.addIssue({ code: 'custom', path: [index], message: `lists "${event}" twice` });
        seen.add(event);
      });
    })
    .default([...NOTIFY_EVENTS]),
});
export type NotifyWebhookSpec = z.output<typeof NotifyWebhookSpec>;

/**
 * The webhooks a rollout (and an upgrade or rollback of the app) notifies. Delivery never blocks or changes the run's
 * outcome; each event reaches each webhook at least once, with an `Idempotency-Key` to dedupe retried POSTs by.
 * @example [{ format: slack, urlSecret: slack-webhook, events: [failed, rolled-back] }]
 */
export const NotifySpec = z
  .array(NotifyWebhookSpec)
  .min(1)
  .max(10)
  .superRefine((webhooks, context) => {
    const names = new Map<string, number>();
    webhooks.forEach((webhook, index) => {
      const name = webhook.name ?? webhook.urlSecret;
      const first = names.get(name);
      if (first !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [index, webhook.name ? 'name' : 'urlSecret'],
          message: `names the same webhook as item ${first} ("${name}"): give each webhook its own name`,
        });
      } else {
        names.set(name, index);
      }
    });
  });
export type NotifySpec = z.output<typeof NotifySpec>;
