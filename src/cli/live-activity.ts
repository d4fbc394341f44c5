import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { HealthHeartbeat } from '../activities/health-wait-budget';
import type { TransferProgress } from '../storage/download-progress';
import { formatMs } from './format-ms';

/** A long activity's last heartbeat, as the server keeps it for the workflow's description. */
export interface PendingHeartbeat {
  activityType: string;
  details: unknown;
}

/** What the live line is measured against. */
export interface LiveContext {
  nowMs: number;
  /** The spec's `health.startupTimeout`: the budget the health wait's polled time counts against. */
  startupTimeoutSec?: number;
}

/** Storage steps heartbeat their `TransferProgress`; the health wait its `HealthHeartbeat` (`polledMs` may be missing). */
type TransferBeat = TransferProgress;
type HealthBeat = Pick<HealthHeartbeat, 'attempt' | 'startedAtMs'> & Partial<Pick<HealthHeartbeat, 'polledMs'>>;

/** Bytes for people: `812 MB`, `3.10 GB`, `700 GB` (decimal units, as the guide's sizes are). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

function isTransfer(details: unknown): details is TransferBeat {
  const beat = details as Partial<TransferBeat> | null;
  return typeof beat?.bytesDone === 'number' && typeof beat.bytesTotal === 'number' && typeof beat.stage === 'string';
}

function isHealth(type: string, details: unknown): details is HealthBeat {
  const beat = details as Partial<HealthBeat> | null;
  return type === 'waitForHealth' && typeof beat?.attempt === 'number' && typeof beat.startedAtMs === 'number';
}

/** `download 3.10 GB / 700 GB (0.4 %), 4 of 142 files, 1.20 GB/s, ETA 9.7 min`. */
function transferLine(beat: TransferBeat): string {
  if (beat.bytesTotal <= 0) return `${beat.stage}: starting`;
  const percent = ((100 * beat.bytesDone) / beat.bytesTotal).toFixed(1);
  const parts = [`${beat.stage} ${formatBytes(beat.bytesDone)} / ${formatBytes(beat.bytesTotal)} (${percent} %)`];
  if (beat.filesTotal > 0) parts.push(`${beat.filesDone} of ${beat.filesTotal} files`);
  if (beat.rateBytesPerSec > 0) {
    parts.push(`${formatBytes(beat.rateBytesPerSec)}/s`);
    const leftMs = ((beat.bytesTotal - beat.bytesDone) * 1000) / beat.rateBytesPerSec;
    parts.push(`ETA ${formatMs(Math.max(0, leftMs))}`);
  }
  return parts.join(', ');
}

/** `/health attempt 12, polled 1.4 min of the 15.0 min startup timeout`. */
function healthLine(beat: HealthBeat, context: LiveContext): string {
  const polledMs = beat.polledMs ?? context.nowMs - beat.startedAtMs;
  const budget = context.startupTimeoutSec
    ? ` of the ${formatMs(context.startupTimeoutSec * 1000)} startup timeout`
    : '';
  return `/health attempt ${beat.attempt}, polled ${formatMs(Math.max(0, polledMs))}${budget}`;
}

/**
 * One line of what a running step is doing, from its activity's last heartbeat: bytes, total, rate and ETA of a
 * download, or the /health attempt and the polled time against the startup timeout. Undefined when no pending
 * activity heartbeats either.
 */
export function liveActivityLine(pending: readonly PendingHeartbeat[], context: LiveContext): string | undefined {
  for (const { activityType, details } of pending) {
    if (isHealth(activityType, details)) return healthLine(details, context);
    if (isTransfer(details)) return transferLine(details);
  }
  return undefined;
}

/** The pending activities' last heartbeats from a workflow's description (undecodable ones are skipped). */
export function pendingHeartbeats(
  description: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse,
): PendingHeartbeat[] {
  const beats: PendingHeartbeat[] = [];
  for (const pending of description.pendingActivities ?? []) {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    try {
      beats.push({
        activityType: pending.activityType?.name ?? '',
        details: defaultPayloadConverter.fromPayload(payload),
      });
    } catch {
      // Not JSON we can read (another converter): nothing to show for it.
    }
  }
  return beats;
}
