import type { CalendarSpecDescription, Range } from '@temporalio/client';
import { MONTHS } from './calendar-months';
import { calendarText } from './calendar-text';
import { zonePhrase } from './zoned-display';

/**
 * A calendar the server returns (it stores a cron expression as one) as a sentence a person reads at a glance:
 * `*\/14 6-22 * * MON-FRI` in America/New_York → "every 14 minutes from 06:00 to 22:59, Monday to Friday, New York
 * time". Shapes it has no plain wording for (seconds, stepped days, years, day of month and weekday together) fall
 * back to the cron-like fields, so the text never says something the server will not run.
 */
export function calendarSentence(calendar: CalendarSpecDescription, timeZone?: string): string {
  const parts = [timeOfDay(calendar), days(calendar), months(calendar.month)];
  if (
    !isOnly(calendar.second, 0) ||
    calendar.year.length > 0 ||
    parts.some((part) => part === undefined) ||
    (!isAll(calendar.dayOfMonth, 1, 31) && !isAllWeekdays(calendar.dayOfWeek))
  ) {
    return `${calendarText(calendar)}, ${zonePhrase(timeZone)}`;
  }
  return [...parts.filter((part) => part !== ''), zonePhrase(timeZone)].join(', ');
}

type NumberRanges = Range<number>[];

const WEEKDAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

const endOf = <T>(range: Range<T>): T => range.end ?? range.start;
const stepOf = (range: Range<unknown>): number => range.step ?? 1;
const pad = (n: number): string => String(n).padStart(2, '0');
const clock = (hour: number, minute: number): string => `${pad(hour)}:${pad(minute)}`;
const titleCase = (name: string): string => name.charAt(0) + name.slice(1).toLowerCase();

function isAll(ranges: Range<number | string>[], first: number | string, last: number | string): boolean {
  const [only] = ranges;
  return ranges.length === 1 && only!.start === first && endOf(only!) === last && stepOf(only!) === 1;
}

function isAllWeekdays(ranges: Range<number | string>[]): boolean {
  return isAll(ranges, 'SUNDAY', 'SATURDAY');
}

function isOnly(ranges: NumberRanges, value: number): boolean {
  return ranges.length === 1 && ranges[0]!.start === value && endOf(ranges[0]!) === value;
}

/** The values when every range is one value (`9,17`), else undefined. */
function singleValues(ranges: NumberRanges): number[] | undefined {
  if (ranges.length === 0 || ranges.some((r) => endOf(r) !== r.start)) return undefined;
  return ranges.map((r) => r.start);
}

/** "a, b and c". */
function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "at 09:00 and 17:00", "every hour at :05", "every 14 minutes from 06:00 to 22:59", or undefined. */
function timeOfDay(calendar: CalendarSpecDescription): string | undefined {
  const minutes = singleValues(calendar.minute);
  const hours = singleValues(calendar.hour);
  if (minutes && hours && minutes.length * hours.length <= 6) {
    const times = hours.flatMap((h) => minutes.map((m) => clock(h, m)));
    return `at ${listed(times)}`;
  }
  if (calendar.hour.length !== 1) return undefined;
  const [hourRange] = calendar.hour as [Range<number>];
  const hourStep = stepOf(hourRange);
  const window =
    hourRange.start === 0 && endOf(hourRange) === 23
      ? ''
      : ` from ${clock(hourRange.start, 0)} to ${clock(endOf(hourRange), 59)}`;
  if (minutes) {
    const past = listed(minutes.map((m) => `:${pad(m)}`));
    return `${hourStep > 1 ? `every ${hourStep} hours` : 'every hour'} at ${past}${window}`;
  }
  // Every N minutes of every Nth hour has no short wording: the fields say it exactly.
  const [range] = calendar.minute;
  if (hourStep !== 1 || calendar.minute.length !== 1 || range!.start !== 0 || endOf(range!) !== 59) return undefined;
  const step = stepOf(range!);
  return `${step > 1 ? `every ${step} minutes` : 'every minute'}${window}`;
}

/** "Monday to Friday", "every day", "on day 1 of the month", or undefined. */
function days(calendar: CalendarSpecDescription): string | undefined {
  if (!isAll(calendar.dayOfMonth, 1, 31)) {
    const values = singleValues(calendar.dayOfMonth);
    if (!values) return undefined;
    return `on ${values.length === 1 ? 'day' : 'days'} ${listed(values.map(String))} of the month`;
  }
  if (isAllWeekdays(calendar.dayOfWeek)) return 'every day';
  const named: string[] = [];
  for (const range of calendar.dayOfWeek) {
    if (stepOf(range) !== 1 || !WEEKDAYS.includes(String(range.start))) return undefined;
    const first = titleCase(String(range.start));
    named.push(endOf(range) === range.start ? first : `${first} to ${titleCase(String(endOf(range)))}`);
  }
  return named.length > 0 ? listed(named) : undefined;
}

/** "" for every month, "in June", "in January to March", or undefined. */
function months(ranges: Range<number | string>[]): string | undefined {
  if (isAll(ranges, 'JANUARY', 'DECEMBER')) return '';
  const named: string[] = [];
  for (const range of ranges) {
    if (stepOf(range) !== 1 || !(MONTHS as readonly string[]).includes(String(range.start))) return undefined;
    const first = titleCase(String(range.start));
    named.push(endOf(range) === range.start ? first : `${first} to ${titleCase(String(endOf(range)))}`);
  }
  return named.length > 0 ? `in ${listed(named)}` : undefined;
}
