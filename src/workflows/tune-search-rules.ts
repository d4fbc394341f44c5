import type { PrunedPoint, Spec, TrialRecord, TuneCandidate, TuneSpec } from '../shared/tune-types';
import { candidateKey, leversOf, withLever, type Lever } from './tune-space';

// What the guide says the levers do, as rules that rule grid points out without a trial. Each rule only removes a
// point whose result another point (or a finished trial) already tells: it is infeasible, dominated, or the same
// config under another name. Pure and deterministic (the tune workflow runs it).

type LeverValue = string | number | boolean;

export const MEM_FRACTION = 'mem-fraction-static';
export const RUNNING_CAP = 'max-running-requests';
export const SPECULATIVE_ALGORITHM = 'speculative-algorithm';

// SGLang's EAGLE-family names (all use GLM-5.1's MTP head); any other value, or the flag omitted, decodes plainly.
const EAGLE_ALGORITHMS = /^(EAGLE|EAGLE3|NEXTN)$/i;
// The failure a trial's reason names when the engine ran out of GPU memory (the diagnosis titles say "out of memory").
const OUT_OF_MEMORY = /\bOOM\b|out of memory|OutOfMemory/i;

/** What the rules know: the base spec, the space, the workload's users and what the finished trials proved. */
export interface RuleContext {
  spec: Spec;
  levers: Lever[];
  /** Users at once of the tune's workload; undefined when only a request rate paces it (no collapse by users). */
  concurrency: number | undefined;
  /** The lowest mem-fraction a trial ran out of memory at; undefined when none did. */
  oom?: { memFraction: number; trialIndex: number };
  /**
   * The highest mem-fraction of the space below the OOM one: the only one searched while it is not known to run out
   * of memory (top-down); undefined when the space does not vary mem-fraction or every value is at or above the OOM.
   */
  memFractionCeiling?: number;
}

/** The rules' context for a space, a workload and the trials finished so far. */
export function ruleContext(spec: Spec, tune: TuneSpec, trials: readonly TrialRecord[]): RuleContext {
  const levers = leversOf(tune.space);
  const load = tune.workload ?? spec.slo.load;
  // As the gate's load: the stated users, else 4 unless a request rate paces the arrivals (slo-schema sloConcurrency).
  const concurrency = load.concurrency ?? (load.requestRate === undefined ? 4 : undefined);
  const context: RuleContext = { spec, levers, concurrency };
  for (const trial of trials) {
    if (!isOutOfMemory(trial)) continue;
    const memFraction = numeric(valueOf(context, trial.candidate, 'args', MEM_FRACTION));
    if (memFraction === undefined) continue;
    if (!context.oom || memFraction < context.oom.memFraction) context.oom = { memFraction, trialIndex: trial.index };
  }
  const memLever = leverNamed(levers, 'args', MEM_FRACTION);
  if (memLever) {
    const feasible = memLever.values
      .map(numeric)
      .filter((value): value is number => value !== undefined && (!context.oom || value < context.oom.memFraction));
    if (feasible.length > 0) context.memFractionCeiling = Math.max(...feasible);
  }
  return context;
}

/** Whether a trial is infeasible because the engine ran out of GPU memory (its reason says so). */
export function isOutOfMemory(trial: TrialRecord): boolean {
  return trial.outcome === 'infeasible' && OUT_OF_MEMORY.test(trial.reason ?? '');
}

/** A lever's value at a point: the point's, else the base spec's (undefined when neither sets it). */
export function valueOf(
  context: Pick<RuleContext, 'spec'>,
  point: TuneCandidate,
  section: Lever['section'],
  name: string,
): LeverValue | undefined {
  if (section === 'args') return point.args[name] ?? context.spec.sglang.args[name];
  const field = name as keyof TuneCandidate['modal'];
  return point.modal[field] ?? (context.spec.modal as Record<string, number | undefined>)[name];
}

/** Whether the point decodes with EAGLE (its `speculative-algorithm`, else the base spec's). */
export function isEagle(context: Pick<RuleContext, 'spec'>, point: TuneCandidate): boolean {
  const algorithm = valueOf(context, point, 'args', SPECULATIVE_ALGORITHM);
  return typeof algorithm === 'string' && EAGLE_ALGORITHMS.test(algorithm);
}

/**
 * Why a point is ruled out as infeasible or dominated by mem-fraction, or undefined. OOM: a trial at mem-fraction X
 * ran out of memory, so every point at X or above will too — the static pool is X of the post-weight memory whatever
 * the other levers are, and none of them gives memory back (more running requests and EAGLE's draft pool and graphs
 * add to it, another container repeats the same per-GPU footprint); the guide's order is to lower mem-fraction first
 * (§4: "drop mem-fraction toward 0.85 before raising max-running-requests", §18, §20). Below the ceiling: a smaller
 * KV pool only admits fewer tokens at once, so it never adds throughput nor cuts latency (§1: "share of post-weight
 * VRAM for KV cache"; §9: throughput from "mem-fraction 0.88 + BF16 KV"); such points wait until the ceiling OOMs.
 */
export function memoryReason(context: RuleContext, point: TuneCandidate): string | undefined {
  const memFraction = numeric(valueOf(context, point, 'args', MEM_FRACTION));
  if (memFraction === undefined) return undefined;
  if (context.oom && memFraction >= context.oom.memFraction) {
    return (
      `infeasible: ${MEM_FRACTION} ${memFraction} ≥ ${context.oom.memFraction}, which ran out of memory in trial ` +
      `${context.oom.trialIndex}; no other lever frees memory (guide §4, §18)`
    );
  }
  if (context.memFractionCeiling !== undefined && memFraction < context.memFractionCeiling) {
    return (
      `${MEM_FRACTION} ${memFraction} below ${context.memFractionCeiling}: a smaller KV pool never adds throughput ` +
      `(guide §1, §4); searched only if ${context.memFractionCeiling} runs out of memory`
    );
  }
  return undefined;
}

/** A point and the point of the space that behaves the same, with the guide's reason for each lever moved. */
export interface Equivalent {
  point: TuneCandidate;
  reasons: string[];
}

/**
 * The representative of the point's class of configs that serve the workload identically: the same point with every
 * lever that cannot matter moved to the smallest value of the space that behaves the same.
 * - EAGLE off: the other `speculative-*` flags do nothing (§2), so they take their first value.
 * - modal.maxInputs at or above the users: no container ever receives more than the users, so all such values are one.
 * - max-running-requests at or above what reaches a container (min(maxInputs, users)) admits nothing more (§1: the
 *   cap bounds running decodes; `max-inputs-below-running-requests`: slots above maxInputs stay idle).
 * - modal.maxContainers beyond what the users can fill (max(minContainers, ⌈users / min(maxInputs, running cap)⌉))
 *   adds cost, not throughput: Modal spills to a new container only when one holds maxInputs (§1, §4: 3 × 48 slots).
 */
export function equivalentOf(context: RuleContext, point: TuneCandidate): Equivalent {
  let current = point;
  const reasons: string[] = [];
  const move = (lever: Lever, value: LeverValue, reason: string): void => {
    if (valueOf(context, current, lever.section, lever.name) === value) return;
    current = withLever(current, lever, value);
    reasons.push(reason);
  };

  if (!isEagle(context, current)) {
    for (const lever of context.levers) {
      if (lever.section !== 'args' || !lever.name.startsWith('speculative-') || lever.name === SPECULATIVE_ALGORITHM) {
        continue;
      }
      move(lever, lever.values[0] as LeverValue, `EAGLE off: ${lever.name} has no effect (guide §2)`);
    }
  }

  const users = context.concurrency;
  const inputsLever = leverNamed(context.levers, 'modal', 'maxInputs');
  const inputs = numeric(valueOf(context, current, 'modal', 'maxInputs'));
  if (users !== undefined && inputsLever && inputs !== undefined && inputs >= users) {
    const smallest = smallestAtLeast(inputsLever, users);
    if (smallest !== undefined && smallest < inputs) {
      move(
        inputsLever,
        smallest,
        `modal.maxInputs ${inputs} ≥ ${users} users: no container receives more than ${users}`,
      );
    }
  }

  const runningLever = leverNamed(context.levers, 'args', RUNNING_CAP);
  const running = numeric(valueOf(context, current, 'args', RUNNING_CAP));
  const reaching = minDefined(numeric(valueOf(context, current, 'modal', 'maxInputs')), users);
  if (runningLever && running !== undefined && reaching !== undefined && running >= reaching) {
    const smallest = smallestAtLeast(runningLever, reaching);
    if (smallest !== undefined && smallest < running) {
      move(
        runningLever,
        smallest,
        `${RUNNING_CAP} ${running} above the ${reaching} requests that reach a container (min(modal.maxInputs, users)): admits nothing more (guide §1)`,
      );
    }
  }

  const containersLever = leverNamed(context.levers, 'modal', 'maxContainers');
  const containers = numeric(valueOf(context, current, 'modal', 'maxContainers'));
  const perContainer = minDefined(
    minDefined(
      numeric(valueOf(context, current, 'modal', 'maxInputs')),
      numeric(valueOf(context, current, 'args', RUNNING_CAP)),
    ),
    users,
  );
  if (users !== undefined && containersLever && containers !== undefined && perContainer !== undefined) {
    const minContainers = context.spec.modal.minContainers;
    const fillable = Math.max(minContainers, Math.ceil(users / perContainer));
    const smallest = smallestAtLeast(containersLever, fillable);
    if (smallest !== undefined && smallest < containers) {
      move(
        containersLever,
        smallest,
        `modal.maxContainers ${containers} beyond the ${fillable} that ${users} users fill at ${perContainer} per container: adds cost, not throughput (guide §1, §4)`,
      );
    }
  }
  return { point: current, reasons };
}

/** The reason a grid point needs no trial, or undefined when it must be searched. */
export function pruneReason(context: RuleContext, point: TuneCandidate): string | undefined {
  const memory = memoryReason(context, point);
  if (memory) return memory;
  const equivalent = equivalentOf(context, point);
  if (equivalent.reasons.length === 0) return undefined;
  return `same as ${candidateKey(equivalent.point)}: ${equivalent.reasons.join('; ')}`;
}

/** Every grid point not yet tried that the rules rule out, with its reason, in grid order. */
export function prunedPoints(
  context: RuleContext,
  grid: readonly TuneCandidate[],
  tried: ReadonlySet<string>,
): PrunedPoint[] {
  const pruned: PrunedPoint[] = [];
  for (const point of grid) {
    const key = candidateKey(point);
    if (tried.has(key)) continue;
    const reason = pruneReason(context, point);
    if (reason) pruned.push({ key, reason });
  }
  return pruned;
}

/**
 * A point whose Modal input cap is below its running cap: the slots above maxInputs never fill
 * (`max-inputs-below-running-requests`), so the search tries it after the others of its line.
 */
export function hasIdleSlots(context: RuleContext, point: TuneCandidate): boolean {
  const inputs = numeric(valueOf(context, point, 'modal', 'maxInputs'));
  const running = numeric(valueOf(context, point, 'args', RUNNING_CAP));
  return inputs !== undefined && running !== undefined && inputs < running;
}

/** The space's lever of that section and name. */
export function leverNamed(levers: readonly Lever[], section: Lever['section'], name: string): Lever | undefined {
  return levers.find((lever) => lever.section === section && lever.name === name);
}

/** A lever value as a number, or undefined when it is not one. */
export function numeric(value: LeverValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function smallestAtLeast(lever: Lever, floor: number): number | undefined {
  const values = lever.values.map(numeric).filter((value): value is number => value !== undefined && value >= floor);
  return values.length === 0 ? undefined : Math.min(...values);
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
