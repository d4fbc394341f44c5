import { isKnownTimeZone } from '../spec/rules/keep-warm-schedule-invalid';

/** A wall-clock time in a named zone, as a maintenance window is written (`2026-12-01T02:00`). */
export interface WallClockTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** A maintenance time or time zone that cannot be used; `field` names the CLI option. */
export class MaintenanceTimeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MaintenanceTimeError';
  }
}

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/;

/** Parses `YYYY-MM-DDTHH:MM` (no offset: the zone is given separately) and rejects impossible dates. */
export function parseWallClockTime(text: string): WallClockTime {
  const match = WALL_CLOCK.exec(text.trim());
  if (!match) {
    throw new MaintenanceTimeError(
      '--at',
      `--at ${JSON.stringify(text)} is not a time like 2026-12-01T02:00 (give the zone with --timezone)`,
    );
  }
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute));
  if (
    probe.getUTCFullYear() !== year ||
    probe.getUTCMonth() !== month - 1 ||
    probe.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59
  ) {
    throw new MaintenanceTimeError('--at', `--at ${JSON.stringify(text)} is not a real date and time`);
  }
  return { year, month, day, hour, minute };
}

/** Throws a MaintenanceTimeError naming the option when the IANA zone is unknown to this runtime. */
export function assertTimeZone(timeZone: string, field = '--timezone'): void {
  if (!isKnownTimeZone(timeZone)) {
    throw new MaintenanceTimeError(
      field,
      `${field} ${JSON.stringify(timeZone)} is not an IANA time zone: use a name such as UTC, America/New_York or Europe/Berlin`,
    );
  }
}

/**
 * The instant a wall-clock time in a zone denotes. Two passes over the zone's offset settle the DST edges; a time
 * that falls into a spring-forward gap resolves to the instant after the gap, as Temporal's calendar does.
 */
export function zonedTimeToInstant(time: WallClockTime, timeZone: string): Date {
  const asUtcMs = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute);
  let guessMs = asUtcMs - offsetMs(asUtcMs, timeZone);
  guessMs = asUtcMs - offsetMs(guessMs, timeZone);
  return new Date(guessMs);
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetMs(instantMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instantMs));
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wallMs = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wallMs - Math.floor(instantMs / 1000) * 1000;
}
