import { parseCron } from '../spec/cron-schedule';

/** The daily window the `pin` strategy holds min containers at 1, derived from the keep-warm cron. */
export interface PinWindow {
  /** Minutes after local midnight of the cron's first fire of a day. */
  startMinuteOfDay: number;
  /** Minutes after local midnight when min containers go back down: the hour after the cron's last firing hour. */
  releaseMinuteOfDay: number;
  /** The cron's day-of-week field as written (`MON-FRI`), reused by the release schedule. */
  daysOfWeekField: string;
  /** Days per week the window opens. */
  daysPerWeek: number;
  /** Five-field cron of the release. */
  releaseCron: string;
}

/** The keep-warm cron cannot describe a daily pin window (it restricts days of month or months). */
export class PinWindowError extends Error {
  constructor(readonly cron: string) {
    super(
      `keepWarm.cron ${JSON.stringify(cron)} restricts days of the month or months; strategy pin needs a daily window such as "*/14 6-22 * * MON-FRI": use strategy ping or drop those fields`,
    );
    this.name = 'PinWindowError';
  }
}

/**
 * Reads the window out of a business-hours cron: pinned from its first fire of the day, released at the top of the
 * hour after its last firing hour (23:59 when that is midnight), on the cron's days of the week.
 */
export function pinWindowOf(cron: string): PinWindow {
  const schedule = parseCron(cron);
  if (schedule.isDayOfMonthRestricted || schedule.months.size < 12) throw new PinWindowError(cron);
  const hours = [...schedule.hours].sort((a, b) => a - b);
  const minutes = [...schedule.minutes].sort((a, b) => a - b);
  const startMinuteOfDay = hours[0]! * 60 + minutes[0]!;
  const lastHour = hours[hours.length - 1]!;
  const releaseMinuteOfDay = lastHour === 23 ? 23 * 60 + 59 : (lastHour + 1) * 60;
  const daysOfWeekField = cron.trim().split(/\s+/)[4]!;
  return {
    startMinuteOfDay,
    releaseMinuteOfDay,
    daysOfWeekField,
    daysPerWeek: schedule.daysOfWeek.size,
    releaseCron: `${releaseMinuteOfDay % 60} ${Math.floor(releaseMinuteOfDay / 60)} * * ${daysOfWeekField}`,
  };
}

/** Hours per week the pin window holds a replica. */
export function pinnedHoursPerWeek(window: PinWindow): number {
  return (window.daysPerWeek * (window.releaseMinuteOfDay - window.startMinuteOfDay)) / 60;
}
