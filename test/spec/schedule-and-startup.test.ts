import { CronSyntaxError, measureCronCoverage, parseCron } from '../../src/spec/cron-schedule';
import { estimateStartup } from '../../src/spec/startup-estimate';
import { loadExampleSpec } from '../helpers/test-spec';

describe('cron schedule', () => {
  it("measures the guide's business-hours ping", () => {
    const coverage = measureCronCoverage(parseCron('*/14 6-22 * * MON-FRI'), 15);
    expect(coverage.steadyGapMinutes).toBe(14);
    expect(coverage.warmHoursPerWeek).toBeCloseTo(((17 * 60 + 11) / 60) * 5, 0);
  });

  it('handles names, lists, steps, and the day-of-month/day-of-week OR', () => {
    const schedule = parseCron('0,30 9-17/2 1,15 JAN-MAR SUN');
    expect([...schedule.hours]).toEqual([9, 11, 13, 15, 17]);
    expect([...schedule.months]).toEqual([1, 2, 3]);
    expect(measureCronCoverage(parseCron('0 * * * *'), 0).steadyGapMinutes).toBe(60);
    expect(parseCron('0 0 * * 7').daysOfWeek.has(0)).toBe(true);
    expect(measureCronCoverage(parseCron('0 0 1 1 *'), 0).steadyGapMinutes).toBe(Infinity);
  });

  it.each([['* * * *'], ['60 * * * *'], ['* 6-25 * * *'], ['*/0 * * * *'], ['* * * * FUNDAY'], ['5-1 * * * *']])(
    'refuses %j',
    (cron) => {
      expect(() => parseCron(cron)).toThrow(CronSyntaxError);
    },
  );
});

describe('estimateStartup', () => {
  it("follows the guide's cold-start phases for 700 GB on Modal", () => {
    const estimate = estimateStartup(loadExampleSpec('examples/glm-5.1-b200.yaml'));
    expect(estimate.phases.map((phase) => phase.name)).toEqual(['provision', 'weightLoad', 'graphCapture', 'warmup']);
    expect(estimate.weightLoadHighSeconds).toBeCloseTo(420);
    expect(estimate.phases[1]!.lowSeconds).toBeCloseTo(180);
    // Guide §10: cold start 6–10 min with pre-compiled DeepGEMM.
    expect(estimate.totalLowSeconds / 60).toBeGreaterThan(5);
    expect(estimate.totalHighSeconds / 60).toBeLessThan(16);
  });

  it('adds the DeepGEMM JIT without a kernel cache (15+ min)', () => {
    const estimate = estimateStartup(loadExampleSpec('examples/glm-5.1-b200.yaml'), { hasKernelCache: false });
    expect(estimate.phases.map((phase) => phase.name)).toContain('deepGemmJit');
    expect(estimate.totalHighSeconds / 60).toBeGreaterThan(15);
  });

  it('scales engine phases by local.timeScale but not the raw load the watchdog sees', () => {
    const estimate = estimateStartup(loadExampleSpec('examples/local-demo.yaml'));
    expect(estimate.timeScale).toBe(0.01);
    expect(estimate.weightLoadHighSeconds).toBeCloseTo(420);
    expect(estimate.untilHealthyHighSeconds).toBeLessThan(15);
    expect(() => estimateStartup(loadExampleSpec('examples/local-demo.yaml'), { volumeThroughputGBps: 0 })).toThrow(
      /volumeThroughputGBps/,
    );
  });
});
