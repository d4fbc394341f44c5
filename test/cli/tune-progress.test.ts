import { tuneProgressLine, tuneStatusLines } from '../../src/cli/tune-progress';
import type { TuneStatus } from '../../src/shared/tune-types';
import { finishedTune } from './tune-result-fixture';

describe('tune progress and status lines', () => {
  const result = finishedTune();
  const { chosen: _chosen, endedBecause: _endedBecause, ...last } = result;
  const running: TuneStatus = {
    ...last,
    state: 'running',
    trials: result.trials.slice(0, 4),
    running: [
      { index: 5, key: result.trials[4]!.key, app: 'glm-5.1-local-demo-t5', startedAt: '2026-12-02T02:05:00.000Z' },
    ],
    planned: ['max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=false'],
    spent: { trials: 4, gpuHours: 0.2, dollars: 1.25 },
  };

  it('one line while it runs: done (infeasible counted), running, planned, the best so far, the spend', () => {
    expect(tuneProgressLine(running)).toBe(
      'trials: 4 done (1 infeasible), 1 running, 1 planned; best #2 max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=EAGLE: 4,500 tok/s at TTFT p95 240 ms; spent 0.20 GPU-h, $1.25',
    );
    expect(
      tuneProgressLine({
        ...running,
        trials: [],
        best: null,
        running: [],
        spent: { trials: 0, gpuHours: 0, dollars: 0 },
      }),
    ).toBe('trials: 0 done, 0 running, 1 planned; best none yet; spent 0.00 GPU-h, $0.00');
  });

  it('status: every trial with its outcome, what runs, what is planned, the best, the spend against the budget', () => {
    const lines = tuneStatusLines(running);
    expect(lines[0]).toBe('tune tune/glm-5.1-local-demo/2026-12-02T02:00:00.000Z: running');
    expect(lines).toContain(
      '    #3 max-running-requests=64 mem-fraction-static=0.88 speculative-algorithm=EAGLE: 5,200 tok/s, TTFT p95 420 ms, TPOT p95 9.0 ms; misses the SLO (TTFT p95 420 ms > 300 ms)',
    );
    expect(lines).toContain(
      '    #4 max-running-requests=48 mem-fraction-static=0.95 speculative-algorithm=EAGLE: infeasible: CUDA out of memory: SGLang died (code -9) while loading',
    );
    expect(lines).toContain(
      '  running: #5 max-running-requests=48 mem-fraction-static=0.85 speculative-algorithm=EAGLE (app glm-5.1-local-demo-t5)',
    );
    expect(lines).toContain(
      '  planned: 1 (next max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=false)',
    );
    expect(lines).toContain('  spent: 0.20 GPU-h, $1.25 (budget 12 trials)');
    expect(lines.some((line) => line.startsWith('  chosen:'))).toBe(false);
  });

  it('status of an ended tune: why it ended and the chosen point', () => {
    const lines = tuneStatusLines(result);
    expect(lines[0]).toBe(
      'tune tune/glm-5.1-local-demo/2026-12-02T02:00:00.000Z: finished (every remaining point pruned or tried)',
    );
    expect(lines[lines.length - 1]).toBe(
      '  chosen: #2 max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=EAGLE: 4,500 tok/s at TTFT p95 240 ms',
    );
    expect(tuneStatusLines({ ...result, chosen: null }).at(-1)).toBe('  chosen: none');
  });
});
