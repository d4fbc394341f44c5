/** A five-field cron expression that could not be parsed. */
export class CronSyntaxError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`cron ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'CronSyntaxError';
  }
}

/** The allowed values of each cron field, expanded. */
export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday … 6 = Saturday (7 folds onto 0). */
  daysOfWeek: Set<number>;
  /** Standard cron: when both day fields are restricted, a day matches if either matches. */
  isDayOfMonthRestricted: boolean;
  isDayOfWeekRestricted: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS = [
  { name: 'minute', min: 0, max: 59, names: undefined },
  { name: 'hour', min: 0, max: 23, names: undefined },
  { name: 'day of month', min: 1, max: 31, names: undefined },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES },
] as const;

/** Parses a standard five-field cron (`*`, lists, ranges, steps, JAN–DEC / SUN–SAT names), as Temporal and Modal accept. */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new CronSyntaxError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`,
    );
  const sets = parts.map((part, index) => parseField(expression, part, FIELDS[index]!));
  const daysOfWeek = new Set([...sets[4]!].map((day) => day % 7));
  return {
    minutes: sets[0]!,
    hours: sets[1]!,
    daysOfMonth: sets[2]!,
    months: sets[3]!,
    daysOfWeek,
    isDayOfMonthRestricted: parts[2] !== '*' && parts[2] !== '?',
    isDayOfWeekRestricted: parts[4] !== '*' && parts[4] !== '?',
  };
}

function parseField(
  expression: string,
  text: string,
  field: { name: string; min: number; max: number; names: readonly string[] | undefined },
): Set<number> {
  const values = new Set<number>();
  const toNumber = (token: string): number => {
    const upper = token.toUpperCase();
    const nameIndex = field.names?.indexOf(upper) ?? -1;
    if (nameIndex >= 0) return field.names === MONTH_NAMES ? nameIndex + 1 : nameIndex;
    if (!/^\d+$/.test(token))
      throw new CronSyntaxError(expression, `${field.name} field has ${JSON.stringify(token)}, not a number or name`);
    const value = Number(token);
    if (value < field.min || value > field.max) {
      throw new CronSyntaxError(expression, `${field.name} ${value} is outside ${field.min}–${field.max}`);
    }
    return value;
  };
  for (const item of text.split(',')) {
    const [rangeText, stepText, extra] = item.split('/');
    if (extra !== undefined || rangeText === undefined || rangeText === '') {
      throw new CronSyntaxError(expression, `${field.name} field item ${JSON.stringify(item)} is malformed`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || (stepText !== undefined && !/^\d+$/.test(stepText))) {
      throw new CronSyntaxError(
        expression,
        `${field.name} step ${JSON.stringify(stepText)} must be a positive integer`,
      );
    }
    let start: number;
    let end: number;
    if (rangeText === '*' || rangeText === '?') {
      start = field.min;
      end = field.max;
    } else if (rangeText.includes('-')) {
      const [from, to] = rangeText.split('-');
      start = toNumber(from ?? '');
      end = toNumber(to ?? '');
      if (end < start) throw new CronSyntaxError(expression, `${field.name} range ${rangeText} runs backwards`);
    } else {
      start = toNumber(rangeText);
      end = stepText === undefined ? start : field.max;
    }
    for (let value = start; value <= end; value += step) values.add(value);
  }
  return values;
}

/** How a keep-warm cron keeps a replica warm over a year of local (wall-clock) time. */
export interface CronCoverage {
  /** Fires in the sampled year. */
  firesPerYear: number;
  /**
   * The longest gap in minutes between consecutive fires inside a firing window: gaps up to twice the median gap.
   * Longer gaps are the deliberate off-hours (overnight, weekends).
   */
  steadyGapMinutes: number;
  /** Average hours per week a replica stays warm when each fire keeps it up for `holdMinutes`. */
  warmHoursPerWeek: number;
}

const MINUTES_PER_DAY = 24 * 60;
/** 2024 starts on a Monday and is a leap year, so every calendar case occurs; DST shifts are ignored. */
const SAMPLE_YEAR_START_UTC = Date.UTC(2024, 0, 1);
const SAMPLE_DAYS = 366;

/** Walks a year of minutes and measures the gaps between fires and the time a replica stays warm after each one. */
export function measureCronCoverage(schedule: CronSchedule, holdMinutes: number): CronCoverage {
  // A week (2024-01-01 is a Monday) is representative unless the calendar fields restrict the schedule.
  const sampleDays = schedule.isDayOfMonthRestricted || schedule.months.size < 12 ? SAMPLE_DAYS : 7;
  const totalMinutes = sampleDays * MINUTES_PER_DAY;
  const fires: number[] = [];
  const hours = [...schedule.hours].sort((a, b) => a - b);
  const minutes = [...schedule.minutes].sort((a, b) => a - b);
  for (let day = 0; day < sampleDays; day += 1) {
    const date = new Date(SAMPLE_YEAR_START_UTC + day * MINUTES_PER_DAY * 60_000);
    const domMatch = schedule.daysOfMonth.has(date.getUTCDate());
    const dowMatch = schedule.daysOfWeek.has(date.getUTCDay());
    const dayMatches =
      schedule.isDayOfMonthRestricted && schedule.isDayOfWeekRestricted ? domMatch || dowMatch : domMatch && dowMatch;
    if (!dayMatches || !schedule.months.has(date.getUTCMonth() + 1)) continue;
    for (const hour of hours) {
      for (const minute of minutes) fires.push(day * MINUTES_PER_DAY + hour * 60 + minute);
    }
  }
  const sorted = Float64Array.from(fires.slice(1), (at, index) => at - fires[index]!).sort();
  const median = sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : 0;
  const steadyGapMinutes = sorted.reduce((max, gap) => (gap <= 2 * median ? Math.max(max, gap) : max), 0);
  // Each fire holds the replica until the next fire or holdMinutes later, whichever comes first.
  let warmMinutes = 0;
  fires.forEach((at, index) => {
    const next = fires[index + 1] ?? totalMinutes;
    warmMinutes += Math.min(next - at, holdMinutes, totalMinutes - at);
  });
  return {
    firesPerYear: Math.round((fires.length * SAMPLE_DAYS) / sampleDays),
    steadyGapMinutes: fires.length <= 1 ? Infinity : steadyGapMinutes,
    warmHoursPerWeek: warmMinutes / 60 / (sampleDays / 7),
  };
}
