import {
  CancellationScope,
  ChildWorkflowCancellationType,
  log,
  ParentClosePolicy,
  patched,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ErrorType } from '../shared/errors';
import type { NotifyEvent, NotifyMessage, NotifyWebhook } from '../shared/notify-types';
import { NOTIFY_EVENTS } from '../shared/notify-types';
import type { DiagnosisReport, RolloutInput, RolloutStatus } from '../shared/rollout-types';
import { describeFailure } from './failure-description';
import { notify } from './notify';

/**
 * Runs from before notifications start no notify children. The branch is only taken for a spec with `notify:`,
 * which no older run's spec could hold, so no older history even asks; the gate keeps it that way for any run.
 */
export const NOTIFY_EVENTS_PATCH = 'notify-events';

/** The spec's `notify:` section as the workflows see it. */
export type NotifyConfig = RolloutInput['spec']['notify'];

/** What an event says besides what the notifier knows (app, run, time). */
export type EventFacts = Omit<
  NotifyMessage,
  'event' | 'app' | 'rolloutId' | 'workflowId' | 'runId' | 'workflowType' | 'time'
>;

/**
 * Tells the spec's webhooks about a run's events. Each event starts one `notify` child workflow, abandoned (it
 * outlives the run, which never waits for a receiver) and not cancellable by the run (an abort must still be heard);
 * the run waits only for the server to accept the start, never for a delivery. Nothing here throws: a notification
 * that cannot be started is logged, and the run's outcome is the same with or without it.
 */
export class Notifier {
  private readonly webhooks: NotifyWebhook[];
  private readonly pending: Promise<void>[] = [];
  private readonly counts = new Map<NotifyEvent, number>();

  constructor(
    config: NotifyConfig,
    private readonly origin: { app: string; rolloutId?: string; requestedBy?: string; workflowType: string },
  ) {
    this.webhooks = (config ?? []).map((webhook) => ({
      name: webhook.name ?? webhook.urlSecret,
      format: webhook.format,
      urlSecret: webhook.urlSecret,
      events: webhook.events ?? [...NOTIFY_EVENTS],
    }));
  }

  /**
   * Starts the event's delivery without waiting for it (a step that fires an event mid-run goes on at once); the
   * run awaits {@link settled} before it ends, so every start it asked for is recorded.
   */
  fire(event: NotifyEvent, facts: EventFacts): void {
    this.pending.push(this.emit(event, facts));
  }

  /** Starts the event's delivery and waits until the server accepted the start (not for the delivery). */
  async emit(event: NotifyEvent, facts: EventFacts): Promise<void> {
    const webhooks = this.webhooks.filter((webhook) => webhook.events.includes(event));
    if (webhooks.length === 0 || !patched(NOTIFY_EVENTS_PATCH)) return;
    const info = workflowInfo();
    const n = (this.counts.get(event) ?? 0) + 1;
    this.counts.set(event, n);
    const { app, rolloutId, requestedBy, workflowType } = this.origin;
    const workflowId = ['notify', info.workflowId, rolloutId, n > 1 ? `${event}/${n}` : event]
      .filter(Boolean)
      .join('/');
    const message: NotifyMessage = {
      event,
      app,
      ...(rolloutId ? { rolloutId } : {}),
      ...(requestedBy ? { requestedBy } : {}),
      workflowId: info.workflowId,
      runId: info.runId,
      workflowType,
      time: new Date(Date.now()).toISOString(),
      ...facts,
    };
    try {
      await CancellationScope.nonCancellable(() =>
        startChild(notify, {
          workflowId,
          args: [{ message, webhooks }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          cancellationType: ChildWorkflowCancellationType.ABANDON,
          // The id is the event's: a second start of it (a reset run re-living the event) is refused, not re-sent.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          staticSummary: `Notify ${event} of ${info.workflowId} to ${webhooks.map((w) => w.name).join(', ')}`,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        log.info('notification already started', { event, workflowId });
      } else {
        log.warn('notification not started', { event, workflowId, detail: describeFailure(err).message });
      }
    }
  }

  /** Waits until every fired event's start was accepted (or logged as failed). */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/** The diagnoses as a notification carries them (the evidence stays in the run's status). */
export function notifyDiagnoses(diagnoses: DiagnosisReport[]): NotifyMessage['diagnoses'] {
  return diagnoses.map((d) => ({
    title: d.title,
    resolution: d.resolution,
    guideSection: d.guideSection,
    ...(d.fix ? { fix: d.fix } : {}),
  }));
}

/**
 * The events a failed rollout ends with: `failed` (its cause and diagnoses), then what the way back did:
 * `rolled-back` when a compensation restored a version, `compensation-failed` when one failed (what is left to do by
 * hand). The facts are read from the failure the rollout ends with (its details hold the final status).
 */
export async function notifyRolloutFailure(notifier: Notifier, failure: unknown): Promise<void> {
  const cause = describeFailure(failure);
  const status = statusOf(failure);
  const common: EventFacts = {
    summary: firstLine(cause.message),
    ...(status?.deployedVersion !== undefined ? { version: status.deployedVersion } : {}),
    ...(status?.previousVersion !== undefined ? { previousVersion: status.previousVersion } : {}),
    ...(status?.servingVersion !== undefined ? { servingVersion: status.servingVersion } : {}),
  };
  const causeType = failureCauseType(failure) ?? cause.type;
  await notifier.emit('failed', {
    ...common,
    cause: { type: causeType, message: firstLine(cause.message) },
    diagnoses: notifyDiagnoses(status?.diagnoses ?? []),
  });
  const compensations = status?.compensations ?? [];
  const leftOver = compensations.filter((c) => c.outcome === 'failed').map((c) => c.step);
  if (cause.type === ErrorType.CompensationFailed || leftOver.length > 0) {
    await notifier.emit('compensation-failed', {
      ...common,
      summary: `compensation failed: ${leftOver.join('; ') || firstLine(cause.message)}`,
      leftToDoByHand: leftOver,
    });
  } else if (typeof status?.servingVersion === 'number') {
    await notifier.emit('rolled-back', {
      ...common,
      summary: `v${status.servingVersion} serving and healthy again after ${cause.type === ErrorType.Aborted ? 'the abort' : 'the failure'}${status.deployedVersion !== undefined ? ` of v${status.deployedVersion}` : ''}`,
    });
  }
}

/** The final status a rollout's failure carries in its details (rollout-state.ts `failure`). */
function statusOf(failure: unknown): RolloutStatus | undefined {
  const details = (failure as { details?: unknown[] } | undefined)?.details;
  return (details?.[0] as { status?: RolloutStatus } | undefined)?.status;
}

/** The type of what went wrong in the step (not CompensationFailed, which says how the way back ended). */
function failureCauseType(failure: unknown): string | undefined {
  const details = (failure as { details?: unknown[] } | undefined)?.details;
  const cause = (details?.[0] as { cause?: unknown } | undefined)?.cause;
  return typeof cause === 'string' ? cause : undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}
