import type { Client, Connection } from '@temporalio/client';
import { whenItFires } from '../../src/schedules/schedule-handles';
import { formatInZone, zonePhrase } from '../../src/schedules/zoned-display';
import { testClient, testId } from '../helpers/temporal';

/**
 * The server is the oracle for what a cron means: each cron becomes a real (paused) schedule on the test Temporal
 * server, and the sentence is rendered from the calendar the server describes back, as `keepwarm status` does.
 */
describe('schedule calendars as sentences and next runs in the schedule zone (real Temporal schedules)', () => {
  let client: Client;
  let connection: Connection;
  const created: string[] = [];
  beforeAll(async () => {
    ({ client, connection } = await testClient());
  });
  afterAll(async () => {
    for (const id of created)
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await connection?.close();
  });

  async function described(cron: string, timezone: string) {
    const scheduleId = testId('calendar');
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [cron], timezone },
      action: { type: 'startWorkflow', workflowType: 'keepWarm', taskQueue: testId('unused'), args: [] },
      state: { paused: true },
    });
    created.push(scheduleId);
    return whenItFires(await client.schedule.getHandle(scheduleId).describe());
  }

  it.each([
    [
      '*/14 6-22 * * MON-FRI',
      'America/New_York',
      'every 14 minutes from 06:00 to 22:59, Monday to Friday, New York time',
    ],
    ['0 2 * * *', 'Europe/Berlin', 'at 02:00, every day, Berlin time'],
    ['5 * * * 1,3,5', 'UTC', 'every hour at :05, Monday, Wednesday and Friday, UTC'],
    ['0 9,17 1 * *', 'America/New_York', 'at 09:00 and 17:00, on day 1 of the month, New York time'],
    ['30 8 * 6 SUN', 'America/Argentina/Buenos_Aires', 'at 08:30, Sunday, in June, Buenos Aires time'],
    ['* * * * *', 'UTC', 'every minute, every day, UTC'],
    ['0 */6 * * *', 'UTC', 'every 6 hours at :00, every day, UTC'],
  ])('%s in %s: "%s"', async (cron, zone, sentence) => {
    expect((await described(cron, zone)).calendarSentence).toBe(sentence);
  });

  it('a shape without plain wording keeps the cron-like fields rather than a wrong sentence', async () => {
    const when = await described('*/5 */2 * * *', 'UTC');
    expect(when.calendarSentence).toBe(
      'minute 0-59/5 hour 0-23/2 dayOfMonth 1-31 month JANUARY-DECEMBER dayOfWeek SUNDAY-SATURDAY, UTC',
    );
  });

  it('the next runs of a New York business-hours cron read as New York wall-clock times, Monday to Friday 06:00–22:59', async () => {
    const when = await described('*/14 6-22 * * MON-FRI', 'America/New_York');
    expect(when.nextRunsInZone.length).toBeGreaterThan(0);
    expect(when.nextRunsInZone).toHaveLength(when.nextRuns.length);
    for (const [i, text] of when.nextRunsInZone.entries()) {
      const match = /^(Mon|Tue|Wed|Thu|Fri) \d{4}-\d{2}-\d{2} (\d{2}):(\d{2}) (EST|EDT)$/.exec(text);
      expect(match).not.toBeNull();
      const [hour, minute] = [Number(match![2]), Number(match![3])];
      expect(hour >= 6 && hour <= 22).toBe(true);
      expect(minute % 14).toBe(0);
      // The same instant as the server's UTC one.
      expect(text).toBe(formatInZone(new Date(when.nextRuns[i]!), 'America/New_York'));
    }
  });
});

describe('wall-clock display in a zone', () => {
  it.each([
    ['2026-12-01T11:00:00Z', 'America/New_York', 'Tue 2026-12-01 06:00 EST'],
    ['2026-07-01T10:00:00Z', 'America/New_York', 'Wed 2026-07-01 06:00 EDT'],
    ['2026-03-08T07:30:00Z', 'America/New_York', 'Sun 2026-03-08 03:30 EDT'],
    ['2026-12-01T23:30:00Z', 'UTC', 'Tue 2026-12-01 23:30 UTC'],
  ])('%s in %s is %s', (iso, zone, text) => {
    expect(formatInZone(new Date(iso), zone)).toBe(text);
  });

  it.each([
    ['America/New_York', 'New York time'],
    ['Europe/Berlin', 'Berlin time'],
    ['UTC', 'UTC'],
    ['Etc/UTC', 'UTC'],
  ])('%s reads as "%s"', (zone, phrase) => {
    expect(zonePhrase(zone)).toBe(phrase);
  });
});
