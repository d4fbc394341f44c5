import { activityInfo, cancellationSignal, log } from '@temporalio/activity';
import { fetch } from 'undici';
import { workflowUiLink, type TemporalUi } from '../config/temporal-ui-links';
import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';
import type { DeliverNotificationInput } from '../shared/notify-types';
import { notificationBody } from './notify-bodies';
import { withFailureTypes } from './to-application-failure';

/** What the delivery needs: the secret resolver (the URL never leaves the worker) and where the UI is. */
export interface NotifyActivityDeps {
  resolveSecret(name: string): string;
  /** The Temporal Web UI the bodies link to, when the worker knows it. */
  temporalUi?: TemporalUi;
  /** How long one POST may take before it counts as unanswered (a retry follows). @default 10_000 */
  requestTimeoutMs?: number;
}

/** Statuses that say "later": the same POST may be accepted on a retry. */
const RETRY_LATER = new Set([408, 425, 429]);

/** The webhook answered, but with a status that no retry changes; the message names the webhook, never its URL. */
export class WebhookRefusedError extends DomainError {
  readonly errorType = ErrorType.WebhookRefused;
  constructor(
    message: string,
    private readonly status: number,
  ) {
    super(message);
  }
  override get details(): Record<string, unknown> {
    return { status: this.status };
  }
}

/** The webhook did not answer, or answered "later" (5xx, 408, 425, 429): the activity's retry tries again. */
export class WebhookUnavailableError extends DomainError {
  readonly errorType = ErrorType.TransportError;
  constructor(
    message: string,
    private readonly status?: number,
  ) {
    super(message);
  }
  override get details(): Record<string, unknown> | undefined {
    return this.status === undefined ? undefined : { status: this.status };
  }
}

/** The secret does not hold a URL this worker can POST to (a person has to fix the secret). */
export class WebhookUrlInvalidError extends DomainError {
  readonly errorType = ErrorType.PlatformUnavailable;
}

/** The delivery of notifications: one POST of one event to one webhook, retried by the notify workflow's profile. */
export const createNotifyActivities = (deps: NotifyActivityDeps) =>
  withFailureTypes({
    /**
     * POSTs the event's body to the webhook, with `Idempotency-Key` (the same on every retry, so a receiver dedupes
     * a POST it accepted but whose answer was lost). The URL is read from the secret here, and no message, log or
     * failure carries it: they name the webhook and its secret.
     */
    async deliverNotification(input: DeliverNotificationInput): Promise<{ status: number; attempt: number }> {
      const { webhook, message, idempotencyKey } = input;
      const who = `webhook "${webhook.name}" (secret ${webhook.urlSecret})`;
      const url = webhookUrl(deps.resolveSecret(webhook.urlSecret), who);
      const link = deps.temporalUi ? workflowUiLink(deps.temporalUi, message.workflowId, message.runId) : undefined;
      const body = JSON.stringify(notificationBody(webhook.format, message, { idempotencyKey, link }));
      const timeoutMs = deps.requestTimeoutMs ?? 10_000;
      const { attempt } = activityInfo();
      let response: Awaited<ReturnType<typeof fetch>>;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
            'user-agent': 'glm-ops',
            'x-glm-ops-event': message.event,
          },
          body,
          redirect: 'error',
          signal: AbortSignal.any([cancellationSignal(), AbortSignal.timeout(timeoutMs)]),
        });
      } catch (err) {
        throw new WebhookUnavailableError(`${who} could not be reached: ${transportReason(err, timeoutMs)}`);
      }
      const answer = maskedAnswer(await response.text().catch(() => ''), url);
      if (response.ok) {
        log.info('notification delivered', { event: message.event, webhook: webhook.name, status: response.status });
        return { status: response.status, attempt };
      }
      const said = `${who} answered ${response.status}${answer ? ` ${answer}` : ''}`;
      if (response.status >= 500 || RETRY_LATER.has(response.status)) {
        throw new WebhookUnavailableError(said, response.status);
      }
      throw new WebhookRefusedError(`${said}: check the URL in secret ${webhook.urlSecret}`, response.status);
    },
  });

/** The secret's value as an http(s) URL; a value that is not one is refused without quoting it. */
function webhookUrl(value: string, who: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookUrlInvalidError(`${who} does not hold a URL: write the webhook's http(s) URL into the secret`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookUrlInvalidError(`${who} holds a ${url.protocol} URL: a webhook is an http(s) URL`);
  }
  return url;
}

/**
 * Why a POST got no answer, from the error's code only: undici's messages quote the address, and a webhook's path
 * is its credential.
 */
function transportReason(err: unknown, timeoutMs: number): string {
  // Duck-typed: the abort reason is a DOMException, of another realm than this module's Error under some runners.
  const named = (value: unknown): { name?: unknown; code?: unknown; cause?: unknown } =>
    typeof value === 'object' && value !== null ? (value as { name?: unknown }) : {};
  const error = named(err);
  const cause = named(error.cause);
  if ([error.name, cause.name].some((name) => name === 'TimeoutError' || name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  return typeof cause.code === 'string' ? cause.code : 'the connection failed';
}

/** The first line of what the receiver said (Slack answers `no_service`, `invalid_payload`…), never the URL. */
function maskedAnswer(text: string, url: URL): string {
  const line = text.split('\n')[0]!.trim().slice(0, 200);
  const masked = line.split(url.href).join('<url>');
  return url.pathname.length > 1 ? masked.split(url.pathname).join('<path>') : masked;
}
