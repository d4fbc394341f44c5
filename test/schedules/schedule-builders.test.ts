import { ScheduleOverlapPolicy } from '@temporalio/client';
import { keepWarmCost } from '../../src/schedules/keep-warm-cost';
import { coldThresholdMsFor, keepWarmSchedules } from '../../src/schedules/keep-warm-schedule';
import { pinWindowOf, PinWindowError } from '../../src/schedules/pin-window';
import { resolveMaintenanceTime, upgradeTimeLabel } from '../../src/schedules/upgrade-schedule';
import { MaintenanceTimeError, zonedTimeToInstant } from '../../src/schedules/zoned-time';
import { parseSpecText } from '../../src/spec/parse-spec';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../src/config/paths';
import type { Spec } from '../../src/spec/schema';

function demoSpec(patch?: (spec: Spec) => void): Spec {
  const parsed = parseSpecText(fs.readFileSync(path.join(projectRoot(), 'examples', 'local-demo.yaml'), 'utf8'));
  if (!parsed.ok) throw new Error('demo spec does not parse');
  patch?.(parsed.spec);
  return parsed.spec;
}

describe('maintenance times in a named zone', () => {
  it.each([
    ['2026-12-01T02:00', 'Europe/Berlin', '2026-12-01T01:00:00.000Z'],
    ['2026-07-01T02:00', 'Europe/Berlin', '2026-07-01T00:00:00.000Z'],
    ['2026-03-08T01:30', 'America/New_York', '2026-03-08T06:30:00.000Z'],
    ['2026-03-08T03:30', 'America/New_York', '2026-03-08T07:30:00.000Z'],
    ['2026-12-01T02:00', 'UTC', '2026-12-01T02:00:00.000Z'],
  ])('%s in %s is %s', (at, zone, iso) => {
    const [date, time] = at.split('T') as [string, string];
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    expect(zonedTimeToInstant({ year, month, day, hour, minute }, zone).toISOString()).toBe(iso);
  });

  it('refuses the past, nonsense and unknown zones with the option named', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(() => resolveMaintenanceTime('2026-05-31T23:59', 'UTC', now)).toThrow(/--at .* is in the past/);
    expect(() => resolveMaintenanceTime('2026-13-01T00:00', 'UTC', now)).toThrow(MaintenanceTimeError);
    expect(() => resolveMaintenanceTime('2026-06-02T00:00', 'Nowhere/City', now)).toThrow(/--timezone "Nowhere\/City"/);
    expect(resolveMaintenanceTime('2026-06-02T00:00', 'UTC', now).label).toBe('20260602T0000');
    expect(upgradeTimeLabel(new Date('2026-06-01T12:34:56.789Z'))).toBe('20260601T123456Z');
  });
});

describe('keep-warm schedules from the spec', () => {
  it('ping: one schedule with the cron, zone, SKIP overlap and a one-minute catch-up window', () => {
    const [schedule, ...rest] = keepWarmSchedules(demoSpec(), { taskQueue: 'q' });
    expect(rest).toEqual([]);
    expect(schedule).toMatchObject({
      scheduleId: 'keepwarm/glm-5.1-local-demo',
      spec: { cronExpressions: ['*/14 6-22 * * MON-FRI'], timezone: 'America/New_York' },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      action: { workflowType: 'keepWarm', workflowId: 'keepwarm/glm-5.1-local-demo', taskQueue: 'q' },
    });
    expect(JSON.stringify(schedule)).not.toMatch(/sk-/);
  });

  it('pin: a release schedule at the hour after the last firing hour, on the same days', () => {
    expect(pinWindowOf('*/14 6-22 * * MON-FRI')).toMatchObject({
      startMinuteOfDay: 360,
      releaseMinuteOfDay: 1380,
      releaseCron: '0 23 * * MON-FRI',
      daysPerWeek: 5,
    });
    expect(pinWindowOf('0 0-23 * * *').releaseCron).toBe('59 23 * * *');
    expect(() => pinWindowOf('0 6 1 * *')).toThrow(PinWindowError);
    const schedules = keepWarmSchedules(
      demoSpec((s) => (s.keepWarm.strategy = 'pin')),
      { taskQueue: 'q' },
    );
    expect(schedules.map((s) => s.scheduleId)).toEqual([
      'keepwarm/glm-5.1-local-demo',
      'keepwarm/glm-5.1-local-demo/release',
    ]);
    expect(schedules[1]!.spec.cronExpressions).toEqual(['0 23 * * MON-FRI']);
  });

  it('costs: pin holds 17 h × 5 days; ping follows the cost model; both sit between scale-to-zero and always-on', () => {
    const cost = keepWarmCost(demoSpec(), {});
    expect(cost.pin!.replicaHoursPerMonth).toBeCloseTo(((17 * 5) / 7) * 30, 5);
    expect(cost.ping.dollarsPerMonth).toBeGreaterThan(0);
    for (const strategy of [cost.ping, cost.pin!]) {
      expect(strategy.dollarsPerMonth).toBeLessThan(cost.alwaysOnDollarsPerMonth);
    }
  });

  it('cold threshold: seconds on the local time scale, capped at a minute on Modal', () => {
    expect(coldThresholdMsFor(demoSpec())).toBeGreaterThan(500);
    expect(coldThresholdMsFor(demoSpec())).toBeLessThan(5000);
    expect(coldThresholdMsFor(demoSpec((s) => (s.platform = 'modal')))).toBe(60_000);
  });
});
