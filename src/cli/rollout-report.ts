import type { ApplicationFailure } from '@temporalio/common';
import type { PhaseReport, RolloutResult, RolloutStatus } from '../shared/rollout-types';

import { formatMs } from './format-ms';

function phaseLines(phases: PhaseReport[]): string[] {
  return phases.map(
    (p) =>
      `  ${p.name.padEnd(8)} ${p.state.padEnd(7)} ${formatMs(p.durationMs, '-').padStart(9)}  ${p.detail ?? ''}${p.guideExpectation ? `\n  ${''.padEnd(27)}guide: ${p.guideExpectation}` : ''}`,
  );
}

/** Prints the report of a successful rollout: per-phase timings against the guide, smoke results, versions. */
export function printRolloutReport(result: RolloutResult): void {
  console.log(`\nrollout ${result.rolloutId} of ${result.app} succeeded in ${formatMs(result.totalMs)}`);
  console.log(
    `  serving v${result.deployedVersion}${result.previousVersion ? ` (previous v${result.previousVersion})` : ''} at ${result.endpoint}`,
  );
  console.log('phases:');
  for (const line of phaseLines(result.phases)) console.log(line);
  console.log('smoke tests:');
  for (const smoke of result.smoke) {
    console.log(`  ${smoke.passed ? 'pass' : 'FAIL'}  ${smoke.name.padEnd(22)} ${smoke.detail}`);
  }
  for (const warning of result.warnings) console.log(`warning: ${warning}`);
}

/** Prints why a rollout failed: the failed phase, the diagnoses in the guide's terms, and what compensation did. */
export function printRolloutFailure(failure: ApplicationFailure | undefined, last: RolloutStatus | undefined): void {
  const status = (failure?.details?.[0] as { status?: RolloutStatus } | undefined)?.status ?? last;
  console.error(`\nrollout failed${failure?.type ? ` (${failure.type})` : ''}`);
  if (failure?.message) console.error(failure.message.replace(/^/gm, '  '));
  if (!status) return;
  console.error('phases:');
  for (const line of phaseLines(status.phases)) console.error(line);
  for (const diagnosis of status.diagnoses) {
    console.error(`diagnosis [${diagnosis.severity}] ${diagnosis.title} (${diagnosis.guideSection})`);
    console.error(`  likely cause: ${diagnosis.likelyCause}`);
    console.error(`  resolution:   ${diagnosis.resolution}`);
    for (const line of diagnosis.evidence) console.error(`  evidence:     ${line}`);
  }
  for (const compensation of status.compensations) {
    console.error(
      `compensation ${compensation.outcome}: ${compensation.step}${compensation.outcome === 'failed' ? ` — ${compensation.detail}` : ''}`,
    );
  }
}
