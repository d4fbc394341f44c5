/**
 * What a rollout, an upgrade or a rollback tells the spec's `notify:` webhooks, in order of a run's life. The human
 * gate is `waiting-for-approval`, whichever gate asks (today the performance gate's inconclusive question).
 */
export const NOTIFY_EVENTS = [
  'started',
  'waiting-for-approval',
  'promoted',
  'failed',
  'rolled-back',
  'compensation-failed',
] as const;

/** One event a webhook may hear. */
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** The body a webhook receives: glm-ops' own JSON, or a Slack incoming-webhook message (`{ text, blocks }`). */
export const NOTIFY_FORMATS = ['json', 'slack'] as const;

/** A webhook's body format. */
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];

/**
 * A webhook as the workflows carry it: the NAME of the secret holding its URL (the URL is resolved by the delivery
 * activity on the worker and never enters workflow inputs, results or history).
 */
export interface NotifyWebhook {
  /** How messages and the status name the webhook; defaults to its secret's name. */
  name: string;
  format: NotifyFormat;
  urlSecret: string;
  events: NotifyEvent[];
}

/** A diagnosis as a notification carries it: what the guide says it is and what to do. */
export interface NotifyDiagnosis {
  title: string;
  resolution: string;
  guideSection: string;
  fix?: string;
}

/** What happened, as every body format is rendered from it (JSON-plain: it travels through history). */
export interface NotifyMessage {
  event: NotifyEvent;
  app: string;
  /** The version the run is about: the one deployed (or attempted), or the one a rollback restored. */
  version?: number;
  previousVersion?: number;
  /** What serves once the run ended (null: nothing, the app was stopped), when known. */
  servingVersion?: number | null;
  /** The rollout's (or upgrade's) id; a rollback has none of its own (its workflow id names it). */
  rolloutId?: string;
  /** Who started the run, as it was started (`alice`, `upgrade u-1`). */
  requestedBy?: string;
  /** The workflow that emitted the event (`rollout/<app>`, `upgrade/…`, `rollback/…`) and its run. */
  workflowId: string;
  runId: string;
  /** `rollout`, `upgrade` or `rollbackApp`. */
  workflowType: string;
  /** When the event happened (workflow time, ISO 8601). */
  time: string;
  /** One line: the outcome as the run's own summary says it. */
  summary: string;
  /** For a failure: its type in the error vocabulary and its first line. */
  cause?: { type: string; message: string };
  diagnoses?: NotifyDiagnosis[];
  /** Compensations that failed: what is left to do by hand. */
  leftToDoByHand?: string[];
  /** For waiting-for-approval: the question, its deadline and how to answer. */
  question?: { reasons: string[]; deadline: string; defaultDecision: string; howToAnswer: string };
}

/** Input of the `notify` child workflow: one event, to every webhook that listens for it. */
export interface NotifyInput {
  message: NotifyMessage;
  webhooks: NotifyWebhook[];
}

/** What one webhook's delivery ended with. */
export interface NotifyDelivery {
  webhook: string;
  outcome: 'delivered' | 'failed';
  /** The HTTP status of the accepted POST, or why it was given up on (never the URL). */
  detail: string;
}

/** Result of the `notify` child workflow. */
export interface NotifyResult {
  event: NotifyEvent;
  idempotencyKey: string;
  deliveries: NotifyDelivery[];
}

/** Input of the delivery activity: one event to one webhook, with the key a receiver dedupes retried POSTs by. */
export interface DeliverNotificationInput {
  webhook: Pick<NotifyWebhook, 'name' | 'format' | 'urlSecret'>;
  message: NotifyMessage;
  idempotencyKey: string;
}
