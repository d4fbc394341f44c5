import { performanceLines } from '../../src/cli/performance-lines';
import type { PerformanceFigures, PerformanceReport } from '../../src/shared/performance-types';
import { SloSpec } from '../../src/spec/slo-schema';
import { judge } from '../../src/workflows/performance-gate-judge';

const LOAD = { concurrency: 96, requestRate: null, requests: 192, warmupRequests: 2, dataset: 'random 256→32 tokens' };

function figures(patch: Partial<PerformanceFigures> = {}): PerformanceFigures {
  return {
    ttftP50Ms: 246,
    ttftP95Ms: 262,
    tpotP50Ms: 7.7,
    tpotP95Ms: 8.4,
    outputTokensPerSec: 4600,
    requestsPerSec: 30,
    measuredConcurrency: 47.5,
    completed: 192,
    failed: 0,
    errorRate: 0,
    acceptLength: 3.5,
    durationSec: 6.4,
    ...patch,
  };
}

describe('performanceLines: the gate in status and reports', () => {
  it('prints the verdict, the figures against the SLO and the version replaced side by side', () => {
    const measurement = {
      version: 3,
      load: LOAD,
      figures: figures({ ttftP95Ms: 2412 }),
      summary: null,
      problems: [],
      timeScale: 1,
    };
    const verdict = judge(measurement, SloSpec.parse({ maxRegressionPct: 20 }), {
      version: 2,
      load: LOAD,
      figures: figures(),
    });
    const report: PerformanceReport = { measurement, verdict };
    const lines = performanceLines({ performance: report });
    expect(lines.slice(0, 3)).toEqual([
      '  performance gate: fail — v3',
      '    TTFT p95 2412 ms > 300 ms',
      '    TTFT p95 vs v2 (+20%) 2412 ms > 314 ms',
    ]);
    expect(lines[3]).toMatch(/^ {4}figure +v3 +SLO +v2$/);
    expect(lines.slice(4).find((l) => l.includes('TTFT p95 '))).toMatch(/TTFT p95 +2412 ms +✗ +≤ 300 ms +262 ms$/);
    expect(lines.find((l) => l.includes('accept length'))).toMatch(/accept length +3.50 tokens +3.50 tokens$/);
  });

  it('prints the open question with the command that answers it and the default', () => {
    const lines = performanceLines({
      performanceQuestion: {
        version: 2,
        reasons: ['too few samples: 3 of 16 requests completed (slo.minSamples 8)'],
        deadline: '2026-12-01T20:30:00.000Z',
        defaultDecision: 'abort',
        howToAnswer: 'glm-ops decide demo promote|abort --reason "…"',
      },
    });
    expect(lines).toEqual([
      '  waiting for a decision on v2 (inconclusive: too few samples: 3 of 16 requests completed (slo.minSamples 8))',
      '    answer: glm-ops decide demo promote|abort --reason "…"; otherwise abort at 2026-12-01T20:30:00.000Z',
    ]);
  });

  it('prints nothing for a rollout without the gate', () => {
    expect(performanceLines({})).toEqual([]);
  });
});
