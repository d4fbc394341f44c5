import type { PrunedPoint, Spec, TrialRecord, TuneCandidate, TuneSpec } from '../shared/tune-types';
import { candidateKey, gridCandidates, withLever, type Lever } from './tune-space';
import {
  equivalentOf,
  hasIdleSlots,
  MEM_FRACTION,
  numeric,
  prunedPoints,
  ruleContext,
  RUNNING_CAP,
  SPECULATIVE_ALGORITHM,
  valueOf,
  type RuleContext,
} from './tune-search-rules';
import { compareJudged, sloExcess } from './tune-trial-judge';

// The guided search: the guide's rules rule points out (tune-search-rules.ts), then coordinate descent walks the
// rest from the base spec's values. Stateless: each call replays the walk over the finished trials, so a resumed
// tune (or a replayed workflow) picks the same next point from the same trials.

/**
 * `coordinate-descent`: one lever at a time through its values, the others held at the best so far, until a whole
 * sweep finds nothing better. `pruned-grid`: every point the rules leave, in grid order (the rules alone).
 */
export type GuidedMethod = 'coordinate-descent' | 'pruned-grid';

/** How the guided search runs; the default is the tune's `guided`, the others are what the benchmark compares. */
export interface GuidedOptions {
  method: GuidedMethod;
  /** false = no rule applies: every grid point is searchable, mem-fraction is swept like any lever. */
  isPruning: boolean;
}

/** The tune's `guided` strategy: the guide's rules, then coordinate descent. */
export const GUIDED: GuidedOptions = { method: 'coordinate-descent', isPruning: true };

/** Levers swept first to last: the guide's biggest effects first (§2 EAGLE ~2.6×, §1/§18 the running cap). */
const SWEEP_ORDER = [
  `args.${SPECULATIVE_ALGORITHM}`,
  `args.${RUNNING_CAP}`,
  'modal.maxContainers',
  'modal.maxInputs',
  'args.speculative-num-steps',
];

// A walk moves only to a strictly better point, over a finite grid, so it ends; this only guards a broken order.
const MAX_SWEEPS = 64;

/** What the guided search answers: the next point(s), the rest of the current line, and the points ruled out. */
export interface GuidedStep {
  next: TuneCandidate[];
  planned: string[];
  pruned: PrunedPoint[];
}

/** One step of the guided search over the trials finished so far. */
export function guidedStep(
  spec: Spec,
  tune: TuneSpec,
  trials: readonly TrialRecord[],
  options: GuidedOptions = GUIDED,
): GuidedStep {
  const grid = gridCandidates(tune.space);
  const results = new Map<string, TrialRecord>();
  for (const trial of trials) results.set(trial.key, trial);
  const context = ruleContext(spec, tune, trials);
  const pruned = options.isPruning ? prunedPoints(context, grid, new Set(results.keys())) : [];
  const prunedKeys = new Set(pruned.map((point) => point.key));
  const open = grid.filter((point) => !prunedKeys.has(candidateKey(point)));
  const walk =
    options.method === 'pruned-grid'
      ? walkPrunedGrid(context, open, results)
      : descend(context, open, results, options.isPruning);
  return { ...walk, pruned };
}

function walkPrunedGrid(
  context: RuleContext,
  open: readonly TuneCandidate[],
  results: ReadonlyMap<string, TrialRecord>,
): Omit<GuidedStep, 'pruned'> {
  const untried = idleSlotsLast(
    context,
    open.filter((point) => !results.has(candidateKey(point))),
  );
  const [next, ...after] = untried;
  return { next: next ? [next] : [], planned: after.map(candidateKey) };
}

/**
 * Coordinate descent once per value of `speculative-algorithm` (EAGLE, plain), each walk holding it: EAGLE changes
 * the shape of the whole surface — decoding ~2.6× faster but TTFT inflating with the running batch (§2, §10, §18:
 * "EAGLE trades some TTFT for massive TPOT improvement") — so the best running cap and placement under one are far
 * from the other's, and a single walk that switches mode early never comes back.
 */
function descend(
  context: RuleContext,
  open: readonly TuneCandidate[],
  results: ReadonlyMap<string, TrialRecord>,
  isPruning: boolean,
): Omit<GuidedStep, 'pruned'> {
  const canonical = (point: TuneCandidate): TuneCandidate => (isPruning ? equivalentOf(context, point).point : point);
  const start = startPoint(context, isPruning);
  const mode = context.levers.find(
    (lever) => lever.section === 'args' && lever.name === SPECULATIVE_ALGORITHM && lever.values.length > 1,
  );
  const walks = mode ? mode.values.map((value) => withLever(start, mode, value)) : [start];
  const blocks = sweepBlocks(context.levers.filter((lever) => lever !== mode));
  for (const from of walks) {
    const modeOf = (point: TuneCandidate): unknown => (mode ? point.args[mode.name] : undefined);
    const inMode = open.filter((point) => modeOf(point) === modeOf(from));
    const walk = descendFrom(context, canonical(from), inMode, results, blocks, canonical);
    if (walk.next.length > 0) return walk;
  }
  return { next: [], planned: [] };
}

function descendFrom(
  context: RuleContext,
  start: TuneCandidate,
  open: readonly TuneCandidate[],
  results: ReadonlyMap<string, TrialRecord>,
  blocks: readonly Lever[][],
  canonical: (point: TuneCandidate) => TuneCandidate,
): Omit<GuidedStep, 'pruned'> {
  const done = { next: [], planned: [] };
  const openKeys = new Set(open.map(candidateKey));
  const first = openKeys.has(candidateKey(start)) ? start : open[0];
  if (!first) return done;
  if (!results.has(candidateKey(first))) return { next: [first], planned: [] };
  let incumbent: TuneCandidate = first;
  const better = (a: TrialRecord, b: TrialRecord): boolean => compareForSearch(context, a, b) < 0;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let hasMoved = false;
    for (const block of blocks) {
      const line: TuneCandidate[] = lineThrough(incumbent, block, canonical).filter((point) =>
        openKeys.has(candidateKey(point)),
      );
      const untried = idleSlotsLast(
        context,
        line.filter((point) => !results.has(candidateKey(point))),
      );
      const [next, ...after] = untried;
      if (next) return { next: [next], planned: after.map(candidateKey) };
      for (const point of line) {
        const trial = results.get(candidateKey(point)) as TrialRecord;
        if (better(trial, results.get(candidateKey(incumbent)) as TrialRecord)) {
          incumbent = point;
          hasMoved = true;
        }
      }
    }
    if (!hasMoved) return done;
  }
  return done;
}

/**
 * The points through `from` along a block of levers (every combination of their values, the others held), each as
 * its representative, without repeats, in grid order.
 */
function lineThrough(
  from: TuneCandidate,
  block: readonly Lever[],
  canonical: (point: TuneCandidate) => TuneCandidate,
): TuneCandidate[] {
  let points = [from];
  for (const lever of block) {
    points = points.flatMap((point) => lever.values.map((value) => withLever(point, lever, value)));
  }
  const seen = new Set<string>();
  const line: TuneCandidate[] = [];
  for (const point of points.map(canonical)) {
    const key = candidateKey(point);
    if (seen.has(key)) continue;
    seen.add(key);
    line.push(point);
  }
  return line;
}

/**
 * Where the walk starts: the base spec's value of each lever when the space holds it (the guide's defaults, §1),
 * else the nearest value; mem-fraction at the ceiling the rules leave (top-down).
 */
function startPoint(context: RuleContext, isPruning: boolean): TuneCandidate {
  let point: TuneCandidate = { args: {}, modal: {} };
  for (const lever of context.levers) {
    const base = valueOf(context, { args: {}, modal: {} }, lever.section, lever.name);
    let value = lever.values.find((candidate) => candidate === base) ?? nearest(lever, numeric(base));
    if (
      isPruning &&
      lever.section === 'args' &&
      lever.name === MEM_FRACTION &&
      context.memFractionCeiling !== undefined
    ) {
      value = context.memFractionCeiling;
    }
    point = withLever(point, lever, value);
  }
  return point;
}

function nearest(lever: Lever, target: number | undefined): Lever['values'][number] {
  const first = lever.values[0] as Lever['values'][number];
  if (target === undefined) return first;
  let best = first;
  let bestDistance = Infinity;
  for (const value of lever.values) {
    const distance = typeof value === 'number' ? Math.abs(value - target) : Infinity;
    if (distance < bestDistance) {
      best = value;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The blocks a sweep walks, in order: each lever alone, except Modal's input cap and replica count, which move
 * together — the guide's "adjust them together, not in isolation" (§1): a lower maxInputs spills to more replicas,
 * so either alone only queues the users or adds idle containers, and one lever at a time never finds the pair.
 */
function sweepBlocks(levers: readonly Lever[]): Lever[][] {
  const rank = (lever: Lever): number => {
    const index = SWEEP_ORDER.indexOf(`${lever.section}.${lever.name}`);
    return index < 0 ? SWEEP_ORDER.length : index;
  };
  const varied = [...levers].filter((lever) => lever.values.length > 1).sort((a, b) => rank(a) - rank(b));
  const placement = varied.filter((lever) => lever.section === 'modal');
  const blocks: Lever[][] = [];
  for (const lever of varied) {
    if (lever.section !== 'modal') blocks.push([lever]);
    else if (lever === placement[0]) blocks.push(placement);
  }
  return blocks;
}

function idleSlotsLast(context: RuleContext, points: TuneCandidate[]): TuneCandidate[] {
  return [...points.filter((p) => !hasIdleSlots(context, p)), ...points.filter((p) => hasIdleSlots(context, p))];
}

/**
 * Orders trials for the walk, better first: meeting the SLO (then as the tune's best: objective, fewer GPUs, lower
 * TTFT p95), then measured but missing it (closer to the SLO first, so the walk heads for it), then no figures.
 * Equal points compare 0, so the walk moves only on a real improvement.
 */
export function compareForSearch(context: Pick<RuleContext, 'spec'>, a: TrialRecord, b: TrialRecord): number {
  const tier = (trial: TrialRecord): number =>
    trial.outcome === 'measured' && trial.figures ? (trial.meetsSlo ? 0 : 1) : 2;
  if (tier(a) !== tier(b)) return tier(a) - tier(b);
  if (tier(a) === 0) {
    return compareJudged(a, b);
  }
  if (tier(a) === 1) {
    const excess = sloExcess(a.figures!, context.spec.slo) - sloExcess(b.figures!, context.spec.slo);
    return Number.isNaN(excess) ? 0 : excess;
  }
  return 0;
}
