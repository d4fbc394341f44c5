import type { NotifyEvent, NotifyFormat, NotifyMessage } from '../shared/notify-types';

/** glm-ops' own body: the message as the workflow recorded it, plus the key and the Temporal UI link. */
export type JsonNotificationBody = NotifyMessage & { idempotencyKey: string; link?: string };

/** A Block Kit block of the kinds a notification uses (header, section, context). */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

/**
 * A Slack incoming-webhook message: `text` is what notifications and screen readers show, `blocks` the message
 * itself (Slack's "Sending messages using incoming webhooks"; a header's text is at most 150 characters, a section's
 * 3000).
 */
export interface SlackNotificationBody {
  text: string;
  blocks: SlackBlock[];
}

const HEADER_LIMIT = 150;
const SECTION_LIMIT = 3000;

const EMOJI: Record<NotifyEvent, string> = {
  started: ':rocket:',
  'waiting-for-approval': ':raising_hand:',
  promoted: ':white_check_mark:',
  failed: ':x:',
  'rolled-back': ':leftwards_arrow_with_hook:',
  'compensation-failed': ':rotating_light:',
};

/** The body of one event for one webhook format. */
export function notificationBody(
  format: NotifyFormat,
  message: NotifyMessage,
  extra: { idempotencyKey: string; link?: string },
): JsonNotificationBody | SlackNotificationBody {
  return format === 'slack' ? slackBody(message, extra.link) : jsonBody(message, extra);
}

function jsonBody(message: NotifyMessage, extra: { idempotencyKey: string; link?: string }): JsonNotificationBody {
  return { ...message, idempotencyKey: extra.idempotencyKey, ...(extra.link ? { link: extra.link } : {}) };
}

/** The event in a few words: `glm-5.1: v8 promoted`. */
export function notificationTitle(message: NotifyMessage): string {
  const { app, version } = message;
  const v = version !== undefined ? `v${version} ` : '';
  switch (message.event) {
    case 'started':
      return `${app}: ${message.workflowType} started`;
    case 'waiting-for-approval':
      return `${app}: ${v}waiting for approval`;
    case 'promoted':
      return `${app}: ${v}promoted`;
    case 'failed':
      return `${app}: ${message.workflowType} of ${v}failed`;
    case 'rolled-back':
      return `${app}: rolled back to v${message.servingVersion ?? version ?? '?'}`;
    case 'compensation-failed':
      return `${app}: compensation failed, a person has to look`;
  }
}

function slackBody(message: NotifyMessage, link: string | undefined): SlackNotificationBody {
  const title = `${EMOJI[message.event]} ${notificationTitle(message)}`;
  const sections = [
    message.summary,
    message.cause ? `*Cause* (${message.cause.type}): ${message.cause.message}` : undefined,
    message.diagnoses?.length
      ? `*Diagnosis*\n${message.diagnoses
          .map((d) => `• ${d.title}: ${d.resolution} (${d.guideSection})${d.fix ? ` fix: ${d.fix}` : ''}`)
          .join('\n')}`
      : undefined,
    message.leftToDoByHand?.length
      ? `*Left to do by hand*\n${message.leftToDoByHand.map((step) => `• ${step}`).join('\n')}`
      : undefined,
    message.question
      ? `*Question*: ${message.question.reasons.join('; ')}\nAnswer by ${message.question.deadline} (default: ${message.question.defaultDecision}): \`${message.question.howToAnswer}\``
      : undefined,
  ].filter((text): text is string => text !== undefined);
  const context = [
    [message.workflowId, message.rolloutId, message.requestedBy && `by ${message.requestedBy}`, message.time]
      .filter((part): part is string => Boolean(part))
      .map(escapeMrkdwn)
      .join(' · '),
    ...(link ? [`<${link}|Temporal UI>`] : []),
  ].join(' · ');
  return {
    text: `${title}: ${message.summary}`.slice(0, SECTION_LIMIT),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, HEADER_LIMIT), emoji: true } },
      ...sections.map((text): SlackBlock => ({
        type: 'section',
        text: { type: 'mrkdwn', text: clip(escapeMrkdwn(text), SECTION_LIMIT) },
      })),
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}

/** Slack's mrkdwn treats `&`, `<` and `>` as control characters: they are sent escaped. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
