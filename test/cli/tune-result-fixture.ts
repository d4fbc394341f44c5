import type { PerformanceFigures } from '../../src/shared/performance-types';
import type { TrialRecord, TuneCandidate, TuneResult } from '../../src/shared/tune-types';

/** Figures of a measured trial: the two the plot places, the rest plausible and fixed. */
export function figures(outputTokensPerSec: number, ttftP95Ms: number, tpotP95Ms = 9): PerformanceFigures {
  return {
    ttftP50Ms: ttftP95Ms * 0.6,
    ttftP95Ms,
    tpotP50Ms: tpotP95Ms * 0.8,
    tpotP95Ms,
    outputTokensPerSec,
    requestsPerSec: outputTokensPerSec / 32,
    measuredConcurrency: 47.5,
    completed: 96,
    failed: 0,
    errorRate: 0,
    acceptLength: 3.4,
    durationSec: 12,
  };
}

function key(candidate: TuneCandidate): string {
  return [
    ...Object.entries(candidate.args).map(([flag, value]) => `${flag}=${String(value)}`),
    ...Object.entries(candidate.modal).map(([field, value]) => `modal.${field}=${String(value)}`),
  ].join(' ');
}

/** One trial record; a measured one meets a 300 ms TTFT p95 SLO unless told otherwise. */
export function trial(
  index: number,
  candidate: TuneCandidate,
  outcome: TrialRecord['outcome'],
  measured?: PerformanceFigures,
  overrides: Partial<TrialRecord> = {},
): TrialRecord {
  const meetsSlo = outcome === 'measured' && measured !== undefined && measured.ttftP95Ms <= 300;
  return {
    index,
    key: key(candidate),
    candidate,
    app: `glm-5.1-local-demo-t${index}`,
    outcome,
    ...(outcome === 'infeasible' ? { reason: 'CUDA out of memory: SGLang died (code -9) while loading' } : {}),
    figures: outcome === 'measured' ? (measured ?? null) : null,
    load:
      outcome === 'measured'
        ? { concurrency: 48, requestRate: null, requests: 96, warmupRequests: 2, dataset: 'random 256→32 tokens' }
        : null,
    meetsSlo,
    sloMisses: meetsSlo || outcome !== 'measured' ? [] : [`TTFT p95 ${Math.round(measured!.ttftP95Ms)} ms > 300 ms`],
    objectiveValue: outcome === 'measured' ? measured!.outputTokensPerSec : null,
    gpuHours: 0.05,
    dollars: 0.05 * 6.25,
    startedAt: `2026-12-02T02:0${index}:00.000Z`,
    durationMs: 20_000,
    isTornDown: true,
    ...overrides,
  };
}

const args = (mrr: number, mem: number, spec: string | false = 'EAGLE'): TuneCandidate => ({
  args: { 'max-running-requests': mrr, 'mem-fraction-static': mem, 'speculative-algorithm': spec },
  modal: {},
});

/** A finished tune of the demo: five measured trials (one misses the SLO), one OOM, two points pruned. */
export function finishedTune(overrides: Partial<TuneResult> = {}): TuneResult {
  const trials = [
    trial(1, args(32, 0.88), 'measured', figures(3400, 180)),
    trial(2, args(48, 0.88), 'measured', figures(4500, 240)),
    trial(3, args(64, 0.88), 'measured', figures(5200, 420)),
    trial(4, args(48, 0.95), 'infeasible'),
    trial(5, args(48, 0.85), 'measured', figures(4300, 250)),
    trial(6, args(48, 0.88, false), 'measured', figures(1750, 200, 21)),
  ];
  const chosen = trials[1]!;
  return {
    tuneId: 'tune/glm-5.1-local-demo/2026-12-02T02:00:00.000Z',
    app: 'glm-5.1-local-demo',
    state: 'finished',
    strategy: 'guided',
    objective: 'output-tokens-per-sec',
    gridSize: 18,
    trials,
    running: [],
    planned: [],
    pruned: [
      {
        key: 'max-running-requests=64 mem-fraction-static=0.95 speculative-algorithm=EAGLE',
        reason: 'mem-fraction-static 0.95 OOMed at max-running-requests=48 (guide §4: OOM above a memory fraction)',
      },
      {
        key: 'max-running-requests=64 mem-fraction-static=0.85 speculative-algorithm=EAGLE',
        reason: 'max-running-requests 64 missed the TTFT SLO at 0.88 (guide §2: TTFT rises with the running cap)',
      },
    ],
    best: chosen,
    spent: { trials: 6, gpuHours: 0.3, dollars: 1.875 },
    budget: { trials: 12 },
    pricing: { dollarsPerGpuHour: 6.25, source: 'catalog' },
    chosen,
    endedBecause: 'every remaining point pruned or tried',
    ...overrides,
  };
}
