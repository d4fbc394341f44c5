import { CronSyntaxError, measureCronCoverage, parseCron } from '../cron-schedule';
import { findingOf, type LintRule } from '../finding';

/** A ping keeps a replica warm only if the next one comes before the scaledown window runs out. */
export const keepWarmGap: LintRule = {
  id: 'keep-warm-gap',
  summary: 'keep-warm cron whose gap between pings is not shorter than modal.scaledownWindow',
  reason: 'guide §6, §19: pings every 14 min keep replicas inside the 15-minute (900 s) scaledown window',
  check(spec) {
    if (spec.keepWarm.strategy !== 'ping') return [];
    let gapMinutes: number;
    try {
      gapMinutes = measureCronCoverage(parseCron(spec.keepWarm.cron), 0).steadyGapMinutes;
    } catch (err) {
      if (err instanceof CronSyntaxError) return [];
      throw err;
    }
    const gapSeconds = gapMinutes * 60;
    if (gapSeconds < spec.modal.scaledownWindow) return [];
    const maxMinutes = Math.max(1, Math.ceil(spec.modal.scaledownWindow / 60) - 1);
    return [
      findingOf(this, {
        level: 'warning',
        path: 'keepWarm.cron',
        message: Number.isFinite(gapSeconds)
          ? `keepWarm.cron ${JSON.stringify(spec.keepWarm.cron)} pings every ${gapMinutes} min (${gapSeconds} s), not less than modal.scaledownWindow ${spec.modal.scaledownWindow} s: replicas scale down between pings`
          : `keepWarm.cron ${JSON.stringify(spec.keepWarm.cron)} fires at most once a year, so it keeps nothing warm`,
        fix: `ping at least every ${maxMinutes} min (e.g. "*/${maxMinutes} 6-22 * * MON-FRI"), or raise modal.scaledownWindow`,
      }),
    ];
  },
};
