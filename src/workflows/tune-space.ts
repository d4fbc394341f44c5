import type { LeverValues, TuneCandidate, TuneSpace } from '../shared/tune-types';

// The search space as points: every lever's values expanded, the grid in a fixed order, and a candidate's canonical
// key. Pure and deterministic: the tune workflow and the benchmarks enumerate the same grid.

type LeverValue = string | number | boolean;

/** One lever of the space: where it lives and the values it takes, in the order written. */
export interface Lever {
  /** `args` = an SGLang flag, `modal` = a scaling field. */
  section: 'args' | 'modal';
  name: string;
  values: LeverValue[];
}

/** The space's levers, `args` first, each in the order written. */
export function leversOf(space: TuneSpace): Lever[] {
  return [
    ...Object.entries(space.args).map(([name, values]) => ({ section: 'args' as const, name, values: expand(values) })),
    ...Object.entries(space.modal).map(([name, values]) => ({
      section: 'modal' as const,
      name,
      values: expand(values as LeverValues),
    })),
  ];
}

/** A range's values (rounded to the step's decimals, so 0.83 + 0.01 steps stay 0.84, 0.85, …) or the list itself. */
export function expand(values: LeverValues): LeverValue[] {
  if (Array.isArray(values)) return [...values];
  const decimals = decimalsOf(values.step);
  const points: number[] = [];
  for (let i = 0; values.from + i * values.step <= values.to + 1e-9; i++) {
    points.push(Number((values.from + i * values.step).toFixed(Math.max(decimals, decimalsOf(values.from)))));
  }
  return points;
}

function decimalsOf(value: number): number {
  const text = String(value);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Every point of the space, the last lever varying fastest. */
export function gridCandidates(space: TuneSpace): TuneCandidate[] {
  let points: TuneCandidate[] = [{ args: {}, modal: {} }];
  for (const lever of leversOf(space)) {
    points = points.flatMap((point) => lever.values.map((value) => withLever(point, lever, value)));
  }
  return points;
}

/** The number of points in the full grid. */
export function gridSize(space: TuneSpace): number {
  return leversOf(space).reduce((size, lever) => size * lever.values.length, 1);
}

/** A copy of `point` with one lever set. */
export function withLever(point: TuneCandidate, lever: Lever, value: LeverValue): TuneCandidate {
  if (lever.section === 'args') return { args: { ...point.args, [lever.name]: value }, modal: { ...point.modal } };
  return { args: { ...point.args }, modal: { ...point.modal, [lever.name]: value as number } };
}

/** The candidate in one canonical line: `args` flags as written, then `modal.<field>`. */
export function candidateKey(candidate: TuneCandidate): string {
  const args = Object.entries(candidate.args).map(([flag, value]) => `${flag}=${String(value)}`);
  const modal = Object.entries(candidate.modal).map(([field, value]) => `modal.${field}=${String(value)}`);
  return [...args, ...modal].join(' ');
}
