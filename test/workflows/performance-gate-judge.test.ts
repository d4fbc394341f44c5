import type { PerformanceFigures, PerformanceMeasurement } from '../../src/shared/performance-types';
import { SloSpec, type SloSpec as Slo } from '../../src/spec/slo-schema';
import { describeCheck, describeLoad, judge } from '../../src/workflows/performance-gate-judge';

/** The guide's B200 baselines at low load (§10): TTFT ~246 ms, TPOT ~7.7 ms, accept length ~3.5. */
function figures(patch: Partial<PerformanceFigures> = {}): PerformanceFigures {
  return {
    ttftP50Ms: 246,
    ttftP95Ms: 262,
    tpotP50Ms: 7.7,
    tpotP95Ms: 8.4,
    outputTokensPerSec: 480,
    requestsPerSec: 3.9,
    measuredConcurrency: 3.8,
    completed: 16,
    failed: 0,
    errorRate: 0,
    acceptLength: 3.5,
    durationSec: 4.1,
    ...patch,
  };
}

const LOAD = { concurrency: 4, requestRate: null, requests: 16, warmupRequests: 2, dataset: 'random 256→32 tokens' };

function measurement(patch: Partial<PerformanceMeasurement> = {}): PerformanceMeasurement {
  return { version: 3, load: LOAD, figures: figures(), summary: null, problems: [], timeScale: 1, ...patch };
}

function slo(input: Record<string, unknown> = {}): Slo {
  return SloSpec.parse(input);
}

describe('judge: the performance verdict', () => {
  it('passes the guide baselines under the default SLO, with every check recorded', () => {
    const verdict = judge(measurement(), slo());
    expect(verdict.verdict).toBe('pass');
    expect(verdict.reasons).toEqual([]);
    expect(verdict.checks.map(describeCheck)).toEqual(['TTFT p95 262 ms ≤ 300 ms']);
  });

  it('fails on TTFT p95 above the target, naming measured value and threshold (guide §18: 2–3 s under load)', () => {
    const verdict = judge(measurement({ figures: figures({ ttftP95Ms: 2412 }) }), slo());
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reasons).toEqual(['TTFT p95 2412 ms > 300 ms']);
  });

  it('checks each stated figure: TPOT p50/p95, output tok/s floor, accept length floor', () => {
    const stated = slo({ tpotP50Ms: 7, tpotP95Ms: 9, minOutputTokensPerSec: 500, minAcceptLength: 3.6 });
    const verdict = judge(measurement(), stated);
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reasons).toEqual([
      'TPOT p50 7.70 ms > 7.00 ms',
      'output tok/s 480 tok/s < 500 tok/s',
      'accept length 3.50 tokens < 3.60 tokens',
    ]);
    expect(verdict.checks.filter((c) => c.isPassed).map((c) => c.figure)).toEqual(['TTFT p95', 'TPOT p95']);
  });

  it('is inconclusive when the load could not run at all, with the measurement’s reason', () => {
    const verdict = judge(
      measurement({ figures: null, problems: ['the load generator could not reach the endpoint: ECONNREFUSED'] }),
      slo(),
    );
    expect(verdict).toMatchObject({
      verdict: 'inconclusive',
      reasons: ['the load generator could not reach the endpoint: ECONNREFUSED'],
    });
  });

  it('is inconclusive on too few samples, even when the few that completed were fast', () => {
    const verdict = judge(measurement({ figures: figures({ completed: 3, failed: 0 }) }), slo({ maxErrorRate: 1 }));
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.reasons).toEqual(['too few samples: 3 of 16 requests completed (slo.minSamples 8)']);
  });

  it('is inconclusive when errors exceed maxErrorRate: latencies over failures prove nothing', () => {
    const verdict = judge(measurement({ figures: figures({ completed: 12, failed: 4, errorRate: 0.25 }) }), slo());
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.reasons).toEqual(['error rate 25% (4 of 16 failed) above slo.maxErrorRate 5%']);
  });

  it('is inconclusive when the endpoint flapped, though the figures would fail', () => {
    const verdict = judge(
      measurement({ figures: figures({ ttftP95Ms: 900 }), problems: ['/health answered 502 after the load'] }),
      slo(),
    );
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.reasons).toEqual(['endpoint not steady: /health answered 502 after the load']);
    expect(verdict.checks.map(describeCheck)).toEqual(['TTFT p95 900 ms > 300 ms']);
  });

  it('is inconclusive when an accept-length floor is stated but the server reported none', () => {
    const verdict = judge(measurement({ figures: figures({ acceptLength: null }) }), slo({ minAcceptLength: 3 }));
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.reasons[0]).toMatch(/^no accept length/);
  });

  describe('against the version replaced', () => {
    const previous = { version: 2, load: LOAD, figures: figures({ ttftP95Ms: 250, tpotP95Ms: 8 }) };

    it('fails a TTFT p95 regression beyond maxRegressionPct at the same load, though under the absolute target', () => {
      const verdict = judge(
        measurement({ figures: figures({ ttftP95Ms: 290, tpotP95Ms: 8.2 }) }),
        slo({ maxRegressionPct: 10 }),
        previous,
      );
      expect(verdict.verdict).toBe('fail');
      expect(verdict.reasons).toEqual(['TTFT p95 vs v2 (+10%) 290 ms > 275 ms']);
      expect(verdict.baseline).toEqual(previous);
    });

    it('passes within the limit and keeps the baseline for the side-by-side report', () => {
      const verdict = judge(measurement(), slo({ maxRegressionPct: 10 }), previous);
      expect(verdict.verdict).toBe('pass');
      expect(verdict.checks.map((c) => c.figure)).toEqual([
        'TTFT p95',
        'TTFT p95 vs v2 (+10%)',
        'TPOT p95 vs v2 (+10%)',
      ]);
    });

    it('does not compare figures measured at another load, and says so', () => {
      const other = { ...previous, load: { ...LOAD, concurrency: 48 } };
      const verdict = judge(measurement({ figures: figures({ ttftP95Ms: 299 }) }), slo({ maxRegressionPct: 1 }), other);
      expect(verdict.verdict).toBe('pass');
      expect(verdict.baselineNote).toBe(`v2 was measured at another load (${describeLoad(other.load)}), not compared`);
    });

    it('notes a regression limit with nothing to compare against', () => {
      expect(judge(measurement(), slo({ maxRegressionPct: 10 }), null).baselineNote).toBe(
        'no figures recorded for the version replaced',
      );
    });
  });
});

describe('slo schema', () => {
  it('keeps `slo: { ttftP95Ms: 300 }` valid, with a small default load', () => {
    expect(SloSpec.parse({ ttftP95Ms: 300 })).toEqual({
      enabled: true,
      ttftP95Ms: 300,
      maxErrorRate: 0.05,
      minSamples: 8,
      load: { dataset: { name: 'random', inputLen: 256, outputLen: 32, rangeRatio: 1 }, warmupRequests: 2 },
      onInconclusive: { timeout: 1800, default: 'abort' },
    });
  });

  it('names the field of a load that cannot be run', () => {
    const bad = SloSpec.safeParse({ load: { durationSec: 60 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['load.durationSec', expect.stringMatching(/^durationSec needs requestRate/)],
    ]);
    const tooFew = SloSpec.safeParse({ minSamples: 20, load: { requests: 10 } });
    expect(tooFew.error!.issues.map((i) => i.path.join('.'))).toEqual(['minSamples']);
  });
});
