import { CronSyntaxError, parseCron } from '../cron-schedule';
import { findingOf, type Finding, type LintRule } from '../finding';

/** Whether an IANA time zone name is known to this runtime. */
export function isKnownTimeZone(timeZone: string): boolean {
  const cached = knownTimeZones.get(timeZone);
  if (cached !== undefined) return cached;
  let isKnown = true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    isKnown = false;
  }
  if (knownTimeZones.size < 1000) knownTimeZones.set(timeZone, isKnown);
  return isKnown;
}

const knownTimeZones = new Map<string, boolean>();

/** The keep-warm cron and time zone must be valid before a Temporal Schedule is created from them. */
export const keepWarmScheduleInvalid: LintRule = {
  id: 'keep-warm-schedule-invalid',
  summary: 'keep-warm cron that does not parse, or an unknown time zone',
  reason: 'guide §6: business-hours keep-alive cron "*/14 6-22 * * MON-FRI" in a named time zone',
  check(spec) {
    const findings: Finding[] = [];
    try {
      parseCron(spec.keepWarm.cron);
    } catch (err) {
      if (!(err instanceof CronSyntaxError)) throw err;
      findings.push(
        findingOf(this, {
          level: 'error',
          path: 'keepWarm.cron',
          message: err.message,
          fix: 'write a five-field cron such as "*/14 6-22 * * MON-FRI"',
        }),
      );
    }
    if (!isKnownTimeZone(spec.keepWarm.timezone)) {
      findings.push(
        findingOf(this, {
          level: 'error',
          path: 'keepWarm.timezone',
          message: `keepWarm.timezone ${JSON.stringify(spec.keepWarm.timezone)} is not an IANA time zone`,
          fix: 'use a name such as America/New_York or Europe/Berlin',
        }),
      );
    }
    return findings;
  },
};
