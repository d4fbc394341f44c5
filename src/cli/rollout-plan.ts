import type { CheckResult } from '../spec/check-spec';
import { formatFinding } from '../spec/finding';
import { describeAcknowledgement } from '../spec/lint';
import { resolveGpuPrice, type PriceSource } from '../spec/gpu-catalog';
import type { Spec } from '../spec/schema';
import { estimateStartup, type PhaseEstimate } from '../spec/startup-estimate';
import type { RolloutPhaseName } from '../shared/rollout-types';
import type { RolloutPlanState } from '../shared/rollout-plan-types';

/** A low–high range in seconds (or GPU-hours, dollars). */
export interface Range {
  low: number;
  high: number;
}

/** One step of the rollout as the plan sees it. */
export interface PlannedStep {
  name: RolloutPhaseName;
  action: 'run' | 'skip';
  /** Why it runs or is skipped, in the words of the check that decides it. */
  why: string;
  /** Wall-clock seconds on the spec's platform (local: engine phases at `local.timeScale`); undefined: not estimated. */
  seconds?: Range;
  /** GPU-hours on the guide's hardware (the spec's GPUs); 0 for a step on CPU or a skipped one. */
  gpuHours: Range;
}

/** A spec field whose value differs from the version serving now. */
export interface FlagChange {
  path: string;
  /** Undefined: the serving version does not set it. */
  from?: string | number | boolean;
  /** Undefined: the new spec drops it. */
  to?: string | number | boolean;
}

/** What `glm-ops rollout SPEC --plan` says, as `--json` prints it. */
export interface RolloutPlan {
  app: string;
  platform: 'local' | 'modal';
  readBy: string;
  steps: PlannedStep[];
  /** The version a deploy would record: the platform's newest + 1. */
  nextVersion: number;
  /** The version serving now, when one does. */
  servingVersion?: number;
  /** Against the serving version's spec; empty when nothing serves or nothing differs. */
  flagChanges: FlagChange[];
  /** Lint findings as `glm-ops spec check` prints them (`warning`/`error` padded, then the finding). */
  lint: string[];
  /** Wall-clock estimate of the steps that have one (see `unestimated`). */
  duration: Range;
  /** Steps that run but have no estimate (the guide gives no download duration; a gate's load by count has none). */
  unestimated: RolloutPhaseName[];
  cost:
    | { gpuHours: Range; dollars: Range; dollarsPerGpuHour: number; priceSource: PriceSource; note: string }
    | { gpuHours: Range; unpriced: string };
}

/** The guide's pre-compile (§10, §18): the DeepGEMM JIT a cold start without a cache pays, done ahead on the GPUs. */
const COMPILE_SECONDS: Range = { low: 300, high: 600 };

/**
 * Works out what a rollout of `spec` would do from what the worker read: the weights step skips on a valid sentinel
 * and the kernels step on a valid marker (the checks the steps themselves make), every rollout deploys a new version
 * (a deploy is never skipped, even when nothing changed), health, warmup and smoke always run, the performance gate
 * only with `slo.enabled`. Durations come from the guide's cold-start table, cost from the GPU price.
 */
export function planRollout(
  spec: Spec,
  state: RolloutPlanState,
  checked: Pick<CheckResult, 'findings' | 'acknowledged'>,
  env: NodeJS.ProcessEnv,
): RolloutPlan {
  const estimate = estimateStartup(spec, { hasKernelCache: true });
  const scale = estimate.timeScale;
  const phase = (name: string): PhaseEstimate | undefined => estimate.phases.find((p) => p.name === name);
  /** Wall-clock and real-hardware seconds of some of the guide's phases. */
  const phases = (names: string[]): { wall: Range; real: Range } => {
    const picked = names.map(phase).filter((p): p is PhaseEstimate => p !== undefined);
    const sum = (pick: (p: PhaseEstimate) => number, scaled: boolean): number =>
      picked.reduce((total, p) => total + pick(p) * (scaled && p.isEngineInternal ? scale : 1), 0);
    return {
      wall: { low: sum((p) => p.lowSeconds, true), high: sum((p) => p.highSeconds, true) },
      real: { low: sum((p) => p.lowSeconds, false), high: sum((p) => p.highSeconds, false) },
    };
  };
  const gpuHoursOf = (real: Range): Range => ({
    low: (real.low * spec.gpu.count) / 3600,
    high: (real.high * spec.gpu.count) / 3600,
  });
  const none: Range = { low: 0, high: 0 };

  const weights = state.weights;
  const weightsStep: PlannedStep =
    weights.state === 'valid'
      ? {
          name: 'weights',
          action: 'skip',
          why: `sentinel valid (${weights.fileCount} files${weights.commit ? `, commit ${weights.commit.slice(0, 12)}` : ''}): download skipped; the volume is committed`,
          seconds: none,
          gpuHours: none,
        }
      : {
          name: 'weights',
          action: 'run',
          why: `download: weights ${weights.state}${weights.problems.length > 0 ? ` (${weights.problems.join('; ')})` : ''}; on CPU, ~free (the guide: ~$0.01/hr)`,
          gpuHours: none,
        };
  const kernels = state.kernels;
  const compile = { low: COMPILE_SECONDS.low, high: COMPILE_SECONDS.high };
  const kernelsStep: PlannedStep =
    kernels.state === 'valid'
      ? {
          name: 'kernels',
          action: 'skip',
          why: `marker valid for ${spec.gpu.type}${kernels.markerSmArch ? ` (${kernels.markerSmArch})` : ''} and ${spec.sglang.image}: compile skipped`,
          seconds: none,
          gpuHours: none,
        }
      : {
          name: 'kernels',
          action: 'run',
          why: `compile DeepGEMM on ${spec.gpu.count}×${spec.gpu.type}: marker ${kernels.state}${kernels.reasons.length > 0 ? ` (${kernels.reasons.join('; ')})` : ''}`,
          seconds: { low: compile.low * scale, high: compile.high * scale },
          gpuHours: gpuHoursOf(compile),
        };
  const flagChanges = state.current ? specChanges(state.current.spec, spec, weights.commit) : [];
  const nextVersion = state.latestVersion + 1;
  const deployWhy = !state.current
    ? `new version v${nextVersion} (first version: nothing serves now)`
    : `new version v${nextVersion} (v${state.current.version} serves now; ${
        flagChanges.length === 0
          ? 'nothing differs from it, and a rollout deploys anyway'
          : `${flagChanges.length} field(s) differ from it`
      })`;
  const deploy = phases(['provision']);
  const health = phases(['weightLoad', 'graphCapture']);
  const warmup = phases(['warmup']);
  const load = spec.slo.load;
  // A paced load lasts its stated duration; a request count has no duration the guide could give.
  const performanceSeconds =
    load.durationSec !== undefined ? { low: load.durationSec, high: load.durationSec } : undefined;
  const steps: PlannedStep[] = [
    { name: 'validate', action: 'run', why: 'schema and the guide’s lint rules', seconds: none, gpuHours: none },
    weightsStep,
    kernelsStep,
    { name: 'deploy', action: 'run', why: deployWhy, seconds: deploy.wall, gpuHours: gpuHoursOf(deploy.real) },
    {
      name: 'health',
      action: 'run',
      why: `wait for /health of v${nextVersion}: weight load + CUDA graph capture (guide §7)`,
      seconds: health.wall,
      gpuHours: gpuHoursOf(health.real),
    },
    {
      name: 'warmup',
      action: 'run',
      why: 'the guide’s four warmup requests (guide §7)',
      seconds: warmup.wall,
      gpuHours: gpuHoursOf(warmup.real),
    },
    { name: 'smoke', action: 'run', why: 'the smoke tests (a few requests)', seconds: none, gpuHours: none },
    spec.slo.enabled
      ? {
          name: 'performance',
          action: 'run',
          why: `slo.enabled: the performance gate measures ${describeLoad(load)}`,
          seconds: performanceSeconds,
          gpuHours: performanceSeconds ? gpuHoursOf(performanceSeconds) : none,
        }
      : { name: 'performance', action: 'skip', why: 'slo.enabled is false', seconds: none, gpuHours: none },
  ];
  const total = (pick: (step: PlannedStep) => Range | undefined): Range =>
    steps.reduce(
      (sum, step) => {
        const range = pick(step);
        return range ? { low: sum.low + range.low, high: sum.high + range.high } : sum;
      },
      { low: 0, high: 0 },
    );
  const gpuHours = total((step) => step.gpuHours);
  const price = resolveGpuPrice(spec.gpu, env);
  return {
    app: spec.app,
    platform: spec.platform,
    readBy: state.readBy,
    steps,
    nextVersion,
    ...(state.current ? { servingVersion: state.current.version } : {}),
    flagChanges,
    lint: [
      ...checked.findings.map((finding) => `${finding.level.padEnd(7)} ${formatFinding(finding)}`),
      ...checked.acknowledged.map(
        (finding) => `ack     ${formatFinding(finding)} — ${describeAcknowledgement(finding)}`,
      ),
    ],
    duration: total((step) => step.seconds),
    unestimated: steps.filter((step) => step.action === 'run' && step.seconds === undefined).map((step) => step.name),
    cost: price
      ? {
          gpuHours,
          dollars: { low: gpuHours.low * price.dollarsPerGpuHour, high: gpuHours.high * price.dollarsPerGpuHour },
          dollarsPerGpuHour: price.dollarsPerGpuHour,
          priceSource: price.source,
          note:
            spec.platform === 'local'
              ? 'what the guide’s hardware would cost; the local platform itself costs nothing'
              : 'one replica of the new version from deploy to the last gate; the download runs on CPU (~free)',
        }
      : { gpuHours, unpriced: `no price for GPU ${spec.gpu.type}: set gpu.dollarsPerGpuHour` },
  };
}

function describeLoad(load: Spec['slo']['load']): string {
  if (load.durationSec !== undefined) return `${load.requestRate ?? '?'} requests/s for ${load.durationSec} s`;
  return `${load.requests ?? 16} requests`;
}

/**
 * The fields of the spec that differ from the serving version's: the SGLang image and flags, the GPUs, Modal's
 * scaling and the model. The serving version's revision is the commit it was pinned to, so the new spec's is compared
 * as it resolves now.
 */
export function specChanges(serving: Spec, next: Spec, resolvedCommit: string | undefined): FlagChange[] {
  const changes: FlagChange[] = [];
  const compare = (path: string, from: FlagChange['from'], to: FlagChange['to']): void => {
    if (from === to) return;
    changes.push({ path, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  };
  compare('sglang.image', serving.sglang.image, next.sglang.image);
  const args = new Set([...Object.keys(serving.sglang.args), ...Object.keys(next.sglang.args)]);
  for (const flag of [...args].sort())
    compare(`sglang.args.${flag}`, serving.sglang.args[flag], next.sglang.args[flag]);
  compare('gpu.type', serving.gpu.type, next.gpu.type);
  compare('gpu.count', serving.gpu.count, next.gpu.count);
  for (const key of Object.keys(next.modal).sort() as (keyof Spec['modal'])[]) {
    compare(`modal.${key}`, serving.modal[key], next.modal[key]);
  }
  compare('model.repo', serving.model.repo, next.model.repo);
  compare('model.revision', serving.model.revision, resolvedCommit ?? next.model.revision);
  return changes;
}
