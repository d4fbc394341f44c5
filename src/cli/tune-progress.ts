import type { TrialRecord, TuneResult, TuneStatus } from '../shared/tune-types';

// How a tune reads in the terminal: one line while it runs (rewritten on a terminal, printed on change otherwise),
// and a short block for `glm-ops tune status`. Pure: the command polls the status query and prints these.

/** "4 done (1 infeasible), 1 running, 5 planned; best #3 …: 4,512 tok/s at TTFT p95 212 ms; spent 0.42 GPU-h, $2.63". */
export function tuneProgressLine(status: TuneStatus): string {
  return [
    `trials: ${doneCounts(status.trials)}, ${status.running.length} running, ${status.planned.length} planned`,
    `best ${status.best ? describeTrial(status.best) : 'none yet'}`,
    `spent ${spentLine(status)}`,
  ].join('; ');
}

/** `glm-ops tune status APP`: the tune, its trials, what runs and what is planned, the best so far, the spend. */
export function tuneStatusLines(status: TuneStatus | TuneResult): string[] {
  const ended = 'endedBecause' in status && status.state !== 'running' ? status : undefined;
  const lines = [
    `tune ${status.tuneId}: ${status.state}${ended ? ` (${ended.endedBecause})` : ''}`,
    `  ${status.strategy} search over a grid of ${status.gridSize} point(s), objective ${status.objective}`,
    `  trials done: ${doneCounts(status.trials)}`,
    ...status.trials.map((trial) => `    #${trial.index} ${trial.key}: ${trialOutcome(trial)}`),
    `  running: ${status.running.length === 0 ? 'none' : status.running.map((t) => `#${t.index} ${t.key} (app ${t.app})`).join('; ')}`,
    `  planned: ${status.planned.length === 0 ? 'none' : `${status.planned.length} (next ${status.planned[0]})`}`,
    `  pruned without a trial: ${status.pruned.length}`,
    `  best so far: ${status.best ? describeTrial(status.best) : 'none meets the SLO yet'}`,
    `  spent: ${spentLine(status)} (budget ${budgetLine(status)})`,
  ];
  if (ended) lines.push(`  chosen: ${ended.chosen ? describeTrial(ended.chosen) : 'none'}`);
  return lines;
}

function doneCounts(trials: readonly TrialRecord[]): string {
  const count = (outcome: TrialRecord['outcome']): number => trials.filter((t) => t.outcome === outcome).length;
  const extra = [
    ...(count('infeasible') ? [`${count('infeasible')} infeasible`] : []),
    ...(count('failed') ? [`${count('failed')} failed`] : []),
  ];
  return `${trials.length} done${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

function describeTrial(trial: TrialRecord): string {
  const f = trial.figures;
  return `#${trial.index} ${trial.key}${f ? `: ${Math.round(f.outputTokensPerSec).toLocaleString('en-US')} tok/s at TTFT p95 ${Math.round(f.ttftP95Ms)} ms` : ''}`;
}

function trialOutcome(trial: TrialRecord): string {
  if (trial.outcome !== 'measured' || !trial.figures)
    return `${trial.outcome}${trial.reason ? `: ${trial.reason}` : ''}`;
  const f = trial.figures;
  const verdict = trial.meetsSlo ? 'meets the SLO' : `misses the SLO (${trial.sloMisses.join('; ')})`;
  return `${Math.round(f.outputTokensPerSec).toLocaleString('en-US')} tok/s, TTFT p95 ${Math.round(f.ttftP95Ms)} ms, TPOT p95 ${f.tpotP95Ms.toFixed(1)} ms; ${verdict}`;
}

function spentLine(status: TuneStatus): string {
  return `${status.spent.gpuHours.toFixed(2)} GPU-h, $${status.spent.dollars.toFixed(2)}`;
}

function budgetLine(status: TuneStatus): string {
  return [
    `${status.budget.trials} trials`,
    ...(status.budget.gpuHours !== undefined ? [`${status.budget.gpuHours} GPU-h`] : []),
    ...(status.budget.dollars !== undefined ? [`$${status.budget.dollars}`] : []),
  ].join(', ');
}
