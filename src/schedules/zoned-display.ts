/**
 * How schedule times are shown to a person: in the schedule's own zone (a New York keep-warm's 06:00 is 06:00, not
 * 11:00 UTC), with the weekday, because calendars are written in weekdays.
 */

/** `Tue 2026-12-01 06:00 EST`: an instant as the wall clock of a zone shows it, with the zone's short name. */
export function formatInZone(instant: Date, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/** `New York time` for America/New_York, `UTC` for UTC: the zone as a sentence names it. */
export function zonePhrase(timeZone = 'UTC'): string {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone.startsWith('Etc/'))
    return timeZone.replace(/^Etc\//, '');
  const city = timeZone.split('/').pop() ?? timeZone;
  return `${city.replace(/_/g, ' ')} time`;
}
