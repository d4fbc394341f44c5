import type { CalendarSpecDescription, Range } from '@temporalio/client';

/**
 * Renders a calendar the server returns (it stores cron expressions as calendars) back in cron-like fields, so
 * `status` shows what the server will actually run: `minute 0-59/14 hour 6-22 dayOfWeek MONDAY-FRIDAY`.
 */
export function calendarText(calendar: CalendarSpecDescription): string {
  const fields: [string, Range<number | string>[]][] = [
    ['second', calendar.second],
    ['minute', calendar.minute],
    ['hour', calendar.hour],
    ['dayOfMonth', calendar.dayOfMonth],
    ['month', calendar.month],
    ['year', calendar.year],
    ['dayOfWeek', calendar.dayOfWeek],
  ];
  return fields
    .filter(
      ([name, ranges]) =>
        !(name === 'second' && ranges.length === 1 && ranges[0]!.start === 0 && (ranges[0]!.end ?? 0) === 0),
    )
    .filter(([, ranges]) => ranges.length > 0)
    .map(([name, ranges]) => `${name} ${ranges.map(rangeText).join(',')}`)
    .join(' ');
}

function rangeText(range: Range<number | string>): string {
  const end = range.end ?? range.start;
  const span = end === range.start ? String(range.start) : `${range.start}-${end}`;
  return range.step && range.step > 1 ? `${span}/${range.step}` : span;
}
