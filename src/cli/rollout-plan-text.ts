import { formatMs } from './format-ms';
import type { FlagChange, Range, RolloutPlan } from './rollout-plan';

/** The plan for people: one line per step (run or skip, and why), then version, changes, lint, duration and cost. */
export function rolloutPlanLines(plan: RolloutPlan): string[] {
  const width = Math.max(...plan.steps.map((step) => step.name.length));
  const lines = [
    `plan for a rollout of ${plan.app} (platform ${plan.platform}; read by ${plan.readBy}; nothing was changed):`,
  ];
  for (const step of plan.steps) {
    const time = step.action === 'skip' ? '' : step.seconds ? `  ~${formatRange(step.seconds)}` : '  (not estimated)';
    lines.push(`  ${step.name.padEnd(width)}  ${step.action === 'run' ? 'run ' : 'skip'}  ${step.why}${time}`);
  }
  lines.push(
    `version: would deploy v${plan.nextVersion}${plan.servingVersion !== undefined ? ` (serving now: v${plan.servingVersion})` : ' (nothing serves now)'}`,
  );
  if (plan.servingVersion !== undefined) {
    if (plan.flagChanges.length === 0) lines.push(`changes against v${plan.servingVersion}: none`);
    else {
      lines.push(`changes against v${plan.servingVersion}:`);
      for (const change of plan.flagChanges) lines.push(`  ${describeChange(change)}`);
    }
  }
  if (plan.lint.length === 0) lines.push('lint: clean');
  else {
    lines.push('lint:');
    for (const finding of plan.lint) lines.push(`  ${finding}`);
  }
  const unestimated = plan.unestimated.length > 0 ? ` + ${plan.unestimated.join(', ')} (no estimate)` : '';
  lines.push(`duration: ~${formatRange(plan.duration)}${unestimated} (guide §7 cold-start table; skipped steps ~0)`);
  const gpuHours = `${plan.cost.gpuHours.low.toFixed(2)}–${plan.cost.gpuHours.high.toFixed(2)} GPU-hours`;
  if ('unpriced' in plan.cost) lines.push(`cost: ${gpuHours}; ${plan.cost.unpriced}`);
  else {
    lines.push(
      `cost: ~$${plan.cost.dollars.low.toFixed(2)}–$${plan.cost.dollars.high.toFixed(2)} (${gpuHours} at $${plan.cost.dollarsPerGpuHour}/GPU-hour, price from ${plan.cost.priceSource}; ${plan.cost.note})`,
    );
  }
  return lines;
}

function formatRange(range: Range): string {
  if (range.high === 0) return '0 s';
  const low = formatMs(range.low * 1000);
  const high = formatMs(range.high * 1000);
  return low === high ? low : `${low}–${high}`;
}

function describeChange(change: FlagChange): string {
  if (change.from === undefined) return `${change.path}: (unset) → ${String(change.to)}`;
  if (change.to === undefined) return `${change.path}: ${String(change.from)} → (unset)`;
  return `${change.path}: ${String(change.from)} → ${String(change.to)}`;
}
