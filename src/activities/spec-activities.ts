import { ApplicationFailure } from '@temporalio/common';
import { formatFinding } from '../spec/finding';
import { describeAcknowledgement, lintSpecReport } from '../spec/lint';
import { formatSpecIssue, validateSpecData } from '../spec/parse-spec';
import type { Spec } from '../spec/schema';
import { estimateStartup } from '../spec/startup-estimate';
import { ErrorType } from '../shared/errors';
import type { RolloutPhaseName } from '../shared/rollout-types';
import { withFailureTypes } from './to-application-failure';

/** What the validate step reports: warnings to carry into the report and the guide's expectation per phase. */
export interface SpecValidation {
  warnings: string[];
  /**
   * Warnings the spec accepted under `lint.acknowledge`, each with the value it accepts and why: still listed, so a
   * reader sees what was waved through. Optional: results recorded before it existed lack it.
   */
  acknowledged?: string[];
  guideExpectations: Partial<Record<RolloutPhaseName, string>>;
}

/** Activities over the spec itself: the same rules as `glm-ops spec check`, raised before anything is touched. */
export const createSpecActivities = () =>
  withFailureTypes({
    /** Re-validates the spec (schema + lint); errors become a SpecInvalid (never retried) naming each field. */
    async validateSpec(input: { spec: unknown }): Promise<SpecValidation> {
      const parsed = validateSpecData(input.spec);
      if (!parsed.ok) {
        throw ApplicationFailure.create({
          type: ErrorType.SpecInvalid,
          message: `the spec is invalid:\n${parsed.errors.map((issue) => formatSpecIssue(issue)).join('\n')}`,
        });
      }
      const { findings, acknowledged } = lintSpecReport(parsed.spec);
      const errors = findings.filter((f) => f.level === 'error');
      if (errors.length > 0) {
        throw ApplicationFailure.create({
          type: ErrorType.SpecInvalid,
          message: `the spec breaks ${errors.length} rule(s): ${errors.map(formatFinding).join(' | ')}`,
          details: [{ findings: errors }],
        });
      }
      return {
        warnings: findings.filter((f) => f.level === 'warning').map(formatFinding),
        acknowledged: acknowledged.map((f) => `${formatFinding(f)} — ${describeAcknowledgement(f)}`),
        guideExpectations: guideExpectations(parsed.spec),
      };
    },
  });

/** The guide's cold-start table (section 7) as expectations for the phases a rollout times. */
function guideExpectations(spec: Spec): Partial<Record<RolloutPhaseName, string>> {
  const estimate = estimateStartup(spec);
  const range = (names: string[]): string => {
    const phases = estimate.phases.filter((p) => names.includes(p.name));
    const sum = (pick: (p: (typeof phases)[number]) => number): number => phases.reduce((t, p) => t + pick(p), 0);
    const real = `${formatSeconds(sum((p) => p.lowSeconds))}–${formatSeconds(sum((p) => p.highSeconds))}`;
    if (estimate.timeScale === 1) return real;
    const scaled = (pick: (p: (typeof phases)[number]) => number): number =>
      sum((p) => (p.isEngineInternal ? pick(p) * estimate.timeScale : pick(p)));
    return `${real} on real hardware; ${formatSeconds(scaled((p) => p.lowSeconds))}–${formatSeconds(scaled((p) => p.highSeconds))} at time scale ${estimate.timeScale}`;
  };
  return {
    health: `${range(['provision', 'weightLoad'])} — provision ~30 s + weight load 3–5 min (guide §7)`,
    warmup: `${range(['graphCapture', 'warmup'])} — CUDA graph capture 2–3 min + warmup 1–2 min (guide §7)`,
    kernels: 'one-time DeepGEMM compile; instant when the cache is present (guide §7, §18)',
  };
}

function formatSeconds(seconds: number): string {
  return seconds >= 90 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(seconds < 10 ? 2 : 0)} s`;
}
