import type { CostReport } from '../spec/cost-model';
import type { Spec } from '../spec/schema';
import type { TrialRecord, TuneResult } from '../shared/tune-types';
import { paretoFront } from './tune-pareto';
import type { SpecChange } from './tune-spec-patch';

// The tune's answer as a document a person keeps beside the spec: what was tried and what each trial measured, what
// the search ruled out and why, the point chosen and what it costs a month, the plot and the patch.

/** Everything the report shows; the caller measured, priced and patched, this only writes it down. */
export interface TuneReportInput {
  result: TuneResult;
  /** The base spec the tune started from (its SLO, platform and time scale). */
  spec: Spec;
  specFile: string;
  /** The load every trial ran under, in one phrase ("48 users, 96 requests (2 warm-up), random 256→32 tokens"). */
  workload: string;
  /** The SVG beside the report, by its file name. */
  plotFile: string;
  /** The monthly cost of the patched spec under each keep-warm strategy; absent when nothing was chosen. */
  cost?: CostReport;
  /** The spec patch; absent when nothing was chosen. */
  patch?: {
    changes: SpecChange[];
    diff: string;
    /** "applied to examples/x.yaml" or "saved as tune-reports/…/x.tuned.yaml (apply with --write)". */
    where: string;
  };
  generatedAt: string;
}

/** The report as markdown. */
export function renderTuneReport(input: TuneReportInput): string {
  const { result, spec } = input;
  const out: string[] = [`# Tune of ${result.app}`, ''];
  out.push(
    `- Tune \`${result.tuneId}\`: ${result.state}, ${result.endedBecause}`,
    `- Search: ${result.strategy}, objective ${describeObjective(result.objective)}; **${result.trials.length} trial(s) of a grid of ${result.gridSize} point(s)**, ${result.pruned.length} pruned without a trial`,
    `- Spent: ${result.spent.trials} trial(s), ${result.spent.gpuHours.toFixed(2)} GPU-h, ${dollars(result.spent.dollars, 2)} at $${result.pricing.dollarsPerGpuHour}/GPU-h (${result.pricing.source})${budgetLine(result)}`,
    `- Constraints (the spec's \`slo\`): ${sloLine(spec)}`,
    `- Workload: ${input.workload}`,
    `- Spec: \`${input.specFile}\`; generated ${input.generatedAt} by glm-ops tune`,
  );
  if (spec.platform === 'local') {
    out.push(
      '',
      `> Trials ran on the local twin (the SGLang emulator). Each trial served at the guide's real request latencies ` +
        `(the emulator's \`timing.timeScale\` 1 unless the spec sets its own), while start-up ran at \`local.timeScale\` ` +
        `${spec.local.timeScale}, so TTFT, TPOT and tok/s are comparable with the guide and the SLO; its start-up is billed at the guide's time ` +
        `(the scaled seconds ÷ \`local.timeScale\`), so the costs are what the trials would cost on Modal. Tuning on the twin ` +
        `tunes the twin: run the same spec with \`platform: modal\` to tune the real deployment (the workflow is the same).`,
    );
  }
  out.push('', ...chosenSection(input));
  out.push(
    '',
    '## Throughput against TTFT p95',
    '',
    `![throughput against TTFT p95 per trial](${input.plotFile})`,
    '',
    frontLine(result.trials),
  );
  out.push('', '## Trials', '', ...trialTable(result.trials));
  out.push('', '## Pruned without a trial', '');
  if (result.pruned.length === 0) out.push('None.');
  else {
    out.push('| Candidate | Why |', '|---|---|');
    for (const point of result.pruned) out.push(`| \`${point.key}\` | ${cell(point.reason)} |`);
  }
  if (input.patch) {
    out.push('', '## The spec patch', '');
    out.push(input.patch.changes.length === 0 ? 'The spec already holds the chosen values.' : `${input.patch.where}.`);
    if (input.patch.diff) out.push('', '```diff', input.patch.diff.trimEnd(), '```');
  }
  return `${out.join('\n')}\n`;
}

function chosenSection(input: TuneReportInput): string[] {
  const { result } = input;
  const chosen = result.chosen;
  if (!chosen?.figures) {
    return ['## No point chosen', '', noChoiceReason(result)];
  }
  const f = chosen.figures;
  const lines = [
    '## Chosen',
    '',
    `**#${chosen.index} \`${chosen.key}\`**: ${tokens(f.outputTokensPerSec)} output tok/s, TTFT p95 ${ms(f.ttftP95Ms)}, ` +
      `TPOT p95 ${ms(f.tpotP95Ms)}${f.acceptLength !== null ? `, accept length ${f.acceptLength.toFixed(2)}` : ''}; meets the SLO. ` +
      `The rollout's performance gate enforces the same SLO at this config.`,
  ];
  if (input.cost) {
    lines.push(
      '',
      `### Cost per month at this config (${input.cost.gpu}, $${input.cost.dollarsPerReplicaHour.toFixed(2)}/replica-h)`,
      '',
      '| Keep-warm strategy | Replica-h/month | Monthly | Cold starts |',
      '|---|---:|---:|---|',
      ...input.cost.strategies.map(
        (s) =>
          `| ${s.label} | ${s.replicaHoursPerMonth.toFixed(0)} | ${dollars(s.dollarsPerMonth)} | ${s.coldProfile} |`,
      ),
      '',
      ...input.cost.strategies.map((s) => `- ${s.id}: ${s.basis}`),
      ...input.cost.notes.map((note) => `- ${note}`),
    );
  }
  return lines;
}

/** Why nothing was chosen, in one paragraph. */
export function noChoiceReason(result: Pick<TuneResult, 'trials' | 'endedBecause'>): string {
  const measured = result.trials.filter((trial) => trial.outcome === 'measured');
  const infeasible = result.trials.filter((trial) => trial.outcome === 'infeasible').length;
  const failed = result.trials.filter((trial) => trial.outcome === 'failed').length;
  const parts = [
    `${measured.length} measured`,
    ...(infeasible ? [`${infeasible} infeasible`] : []),
    ...(failed ? [`${failed} failed`] : []),
  ];
  if (result.trials.length === 0) return `No trial ran (${result.endedBecause}), so no point can be chosen.`;
  return `No trial met the SLO (${result.trials.length} trial(s): ${parts.join(', ')}; the tune ended: ${result.endedBecause}), so the spec is left as it is.`;
}

function frontLine(trials: readonly TrialRecord[]): string {
  const front = paretoFront(trials);
  const unplotted = trials.filter((trial) => trial.outcome !== 'measured' || !trial.figures).length;
  const skipped = unplotted ? ` ${unplotted} trial(s) without figures (infeasible or failed) are not plotted.` : '';
  if (front.length === 0) return `No trial measured figures, so there is no front.${skipped}`;
  return `Pareto front (no other trial has both more throughput and a lower TTFT p95): ${front.map((t) => `#${t.index}`).join(', ')}.${skipped}`;
}

function trialTable(trials: readonly TrialRecord[]): string[] {
  if (trials.length === 0) return ['No trial ran.'];
  const rows = [
    '| # | Candidate | Outcome | TTFT p95 | TPOT p95 | Output tok/s | Meets SLO | Cost | Note |',
    '|---:|---|---|---:|---:|---:|---|---:|---|',
  ];
  for (const trial of trials) {
    const f = trial.figures;
    const note = trial.reason ?? (trial.sloMisses.length > 0 ? trial.sloMisses.join('; ') : '');
    const teardown = trial.isTornDown ? '' : ' (not torn down)';
    rows.push(
      `| ${trial.index} | \`${trial.key}\` | ${trial.outcome}${teardown} | ${f ? ms(f.ttftP95Ms) : '–'} | ${f ? ms(f.tpotP95Ms) : '–'} | ${f ? tokens(f.outputTokensPerSec) : '–'} | ${trial.meetsSlo ? 'yes' : 'no'} | ${dollars(trial.dollars, 2)} | ${cell(note)} |`,
    );
  }
  return rows;
}

function sloLine(spec: Spec): string {
  const slo = spec.slo;
  return [
    `TTFT p95 ≤ ${slo.ttftP95Ms} ms`,
    ...(slo.tpotP50Ms !== undefined ? [`TPOT p50 ≤ ${slo.tpotP50Ms} ms`] : []),
    ...(slo.tpotP95Ms !== undefined ? [`TPOT p95 ≤ ${slo.tpotP95Ms} ms`] : []),
    ...(slo.minOutputTokensPerSec !== undefined ? [`output tok/s ≥ ${slo.minOutputTokensPerSec}`] : []),
    ...(slo.minAcceptLength !== undefined ? [`accept length ≥ ${slo.minAcceptLength}`] : []),
    `error rate ≤ ${slo.maxErrorRate * 100}%`,
  ].join(', ');
}

function budgetLine(result: TuneResult): string {
  const limits = [
    `${result.budget.trials} trials`,
    ...(result.budget.gpuHours !== undefined ? [`${result.budget.gpuHours} GPU-h`] : []),
    ...(result.budget.dollars !== undefined ? [dollars(result.budget.dollars)] : []),
  ];
  return `; budget ${limits.join(', ')}`;
}

function describeObjective(objective: TuneResult['objective']): string {
  return objective === 'output-tokens-per-sec' ? 'output tok/s' : 'output tok/s per $/h';
}

/** A table cell: no line breaks or pipes of its own. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function ms(value: number): string {
  return `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))} ms`;
}

function tokens(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function dollars(value: number, decimals = 0): string {
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;
}
