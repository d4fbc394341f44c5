import { dominates, measuredTrials, paretoFront } from '../../src/cli/tune-pareto';
import { figures, finishedTune, trial } from './tune-result-fixture';

const at = (index: number, tokPerSec: number, ttftMs: number) =>
  trial(index, { args: { 'max-running-requests': index }, modal: {} }, 'measured', figures(tokPerSec, ttftMs));

describe('the Pareto front of a tune (maximise output tok/s, minimise TTFT p95)', () => {
  it('keeps the trials nothing beats on both figures, in TTFT order, and leaves out the dominated ones', () => {
    // #5 (4,300 tok/s at 250 ms) is beaten by #2 (4,500 at 240); #6 (1,750 at 200) by #1 (3,400 at 180).
    expect(paretoFront(finishedTune().trials).map((t) => t.index)).toEqual([1, 2, 3]);
  });

  it('places only measured trials: an infeasible or failed trial has no figures', () => {
    const trials = [
      at(1, 100, 50),
      trial(2, { args: {}, modal: {} }, 'infeasible'),
      trial(3, { args: {}, modal: {} }, 'failed'),
    ];
    expect(measuredTrials(trials).map((t) => t.index)).toEqual([1]);
    expect(paretoFront(trials).map((t) => t.index)).toEqual([1]);
    expect(paretoFront([trial(1, { args: {}, modal: {} }, 'infeasible')])).toEqual([]);
  });

  it('keeps equal points (neither dominates) and drops a point equal on one figure and worse on the other', () => {
    const trials = [at(1, 1000, 100), at(2, 1000, 100), at(3, 1000, 120), at(4, 900, 100)];
    expect(paretoFront(trials).map((t) => t.index)).toEqual([1, 2]);
  });

  it('dominance is strict: a trial does not dominate itself or its twin', () => {
    const [a, b, c] = measuredTrials([at(1, 1000, 100), at(2, 1000, 100), at(3, 1100, 100)]);
    expect([dominates(a!, a!), dominates(a!, b!), dominates(c!, a!), dominates(a!, c!)]).toEqual([
      false,
      false,
      true,
      false,
    ]);
  });

  it('agrees with a brute-force check on a scattered set: every kept point undominated, every dropped one dominated', () => {
    const trials = Array.from({ length: 40 }, (_, i) =>
      at(i + 1, ((i * 37) % 23) * 100 + 500, ((i * 53) % 29) * 10 + 100),
    );
    const front = new Set(paretoFront(trials).map((t) => t.index));
    expect(front.size).toBeGreaterThan(1);
    const measured = measuredTrials(trials);
    for (const t of measured) {
      const isDominated = measured.some(
        (o) =>
          o.figures.outputTokensPerSec >= t.figures.outputTokensPerSec &&
          o.figures.ttftP95Ms <= t.figures.ttftP95Ms &&
          (o.figures.outputTokensPerSec > t.figures.outputTokensPerSec || o.figures.ttftP95Ms < t.figures.ttftP95Ms),
      );
      expect({ index: t.index, onFront: front.has(t.index) }).toEqual({ index: t.index, onFront: !isDominated });
    }
  });
});
