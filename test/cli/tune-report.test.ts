import { unifiedDiff } from '../../src/cli/line-diff';
import { renderTuneReport, type TuneReportInput } from '../../src/cli/tune-report';
import { patchSpecText } from '../../src/cli/tune-spec-patch';
import { estimateMonthlyCost } from '../../src/spec/cost-model';
import { parseSpecText } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';
import { loadExampleSpec } from '../helpers/test-spec';
import { finishedTune, trial, figures } from './tune-result-fixture';

const demoText = readRepoFile('examples/local-demo.yaml');
const spec = loadExampleSpec('examples/local-demo.yaml');

function reportInput(overrides: Partial<TuneReportInput> = {}, chosenIndex = 2): TuneReportInput {
  const tune = finishedTune();
  const chosen = tune.trials[chosenIndex - 1]!;
  const result = { ...tune, chosen, best: chosen };
  const patch = patchSpecText(demoText, result.chosen!.candidate);
  const parsed = parseSpecText(patch.text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return {
    result,
    spec,
    specFile: 'examples/local-demo.yaml',
    workload: '48 users, 96 requests (2 warm-up), random 256→32 tokens',
    plotFile: 'throughput-vs-ttft.svg',
    cost: estimateMonthlyCost(parsed.spec, { env: {} }),
    patch: {
      changes: patch.changes,
      diff: unifiedDiff(demoText, patch.text, { before: 'a', after: 'b' }),
      where: 'saved as tune-reports/x/local-demo.tuned.yaml (apply with --write)',
    },
    generatedAt: '2026-12-02T02:30:00.000Z',
    ...overrides,
  };
}

/** The table rows of a section, split into cells. */
function rows(markdown: string, heading: string): string[][] {
  const section = markdown.split(`## ${heading}\n`)[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('| ') &&
        !line.startsWith('| #') &&
        !line.startsWith('| Candidate') &&
        !line.startsWith('| Keep'),
    )
    .map((line) => line.slice(2, -2).split(' | '));
}

describe('the tune report (markdown)', () => {
  const input = reportInput();
  const report = renderTuneReport(input);

  it('lists every trial with its candidate, outcome, TTFT p95, TPOT p95, tok/s, SLO verdict and cost', () => {
    expect(rows(report, 'Trials')).toEqual([
      [
        '1',
        '`max-running-requests=32 mem-fraction-static=0.88 speculative-algorithm=EAGLE`',
        'measured',
        '180 ms',
        '9 ms',
        '3,400',
        'yes',
        '$0.31',
        '',
      ],
      [
        '2',
        '`max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=EAGLE`',
        'measured',
        '240 ms',
        '9 ms',
        '4,500',
        'yes',
        '$0.31',
        '',
      ],
      [
        '3',
        '`max-running-requests=64 mem-fraction-static=0.88 speculative-algorithm=EAGLE`',
        'measured',
        '420 ms',
        '9 ms',
        '5,200',
        'no',
        '$0.31',
        'TTFT p95 420 ms > 300 ms',
      ],
      [
        '4',
        '`max-running-requests=48 mem-fraction-static=0.95 speculative-algorithm=EAGLE`',
        'infeasible',
        '–',
        '–',
        '–',
        'no',
        '$0.31',
        'CUDA out of memory: SGLang died (code -9) while loading',
      ],
      [
        '5',
        '`max-running-requests=48 mem-fraction-static=0.85 speculative-algorithm=EAGLE`',
        'measured',
        '250 ms',
        '9 ms',
        '4,300',
        'yes',
        '$0.31',
        '',
      ],
      [
        '6',
        '`max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=false`',
        'measured',
        '200 ms',
        '21 ms',
        '1,750',
        'yes',
        '$0.31',
        '',
      ],
    ]);
  });

  it('says how many trials it took against the grid, what it spent, and lists the pruned points with reasons', () => {
    expect(report).toContain('**6 trial(s) of a grid of 18 point(s)**, 2 pruned without a trial');
    expect(report).toContain('- Spent: 6 trial(s), 0.30 GPU-h, $1.88 at $6.25/GPU-h (catalog); budget 12 trials');
    expect(rows(report, 'Pruned without a trial').map((r) => r[0])).toEqual([
      '`max-running-requests=64 mem-fraction-static=0.95 speculative-algorithm=EAGLE`',
      '`max-running-requests=64 mem-fraction-static=0.85 speculative-algorithm=EAGLE`',
    ]);
    expect(report).toContain('OOMed at max-running-requests=48 (guide §4');
  });

  it('names the chosen point with its figures and its monthly cost under each keep-warm strategy (the patched spec priced)', () => {
    expect(report).toContain(
      '**#2 `max-running-requests=48 mem-fraction-static=0.88 speculative-algorithm=EAGLE`**: 4,500 output tok/s, TTFT p95 240 ms, TPOT p95 9 ms, accept length 3.40; meets the SLO.',
    );
    const cost = rows(report, 'Chosen');
    expect(cost.map((r) => r[0])).toEqual(input.cost!.strategies.map((s) => s.label));
    expect(cost.map((r) => r[2])).toEqual(
      input.cost!.strategies.map((s) => `$${Math.round(s.dollarsPerMonth).toLocaleString('en-US')}`),
    );
    // 8 × B200 at the catalog's $6.25 around the clock: the guide's $36,000.
    expect(cost.find((r) => r[0]!.startsWith('Always-on'))![2]).toBe('$36,000');
  });

  it('embeds the plot, names the Pareto front and says the twin tunes the twin', () => {
    expect(report).toContain('![throughput against TTFT p95 per trial](throughput-vs-ttft.svg)');
    expect(report).toContain(
      'Pareto front (no other trial has both more throughput and a lower TTFT p95): #1, #2, #3. 1 trial(s) without figures',
    );
    expect(report).toContain("served at the guide's real request latencies");
    expect(report).toContain('Tuning on the twin tunes the twin');
  });

  it('ends with the patch as a diff and where it went, or says the spec already holds the chosen values', () => {
    expect(report).toContain('## The spec patch\n\nThe spec already holds the chosen values.\n');
    const patched = renderTuneReport(reportInput({}, 1));
    expect(patched).toContain(
      '## The spec patch\n\nsaved as tune-reports/x/local-demo.tuned.yaml (apply with --write).',
    );
    expect(patched).toMatch(
      /```diff\n--- a\n\+\+\+ b\n@@ [^\n]+ @@\n(.+\n)*- {4}max-running-requests: 48\n\+ {4}max-running-requests: 32\n/,
    );
  });

  it('without a chosen point says why (no trial met the SLO) and shows no cost or patch', () => {
    const missed = finishedTune({
      trials: [
        trial(1, { args: { 'max-running-requests': 64 }, modal: {} }, 'measured', figures(5200, 420)),
        trial(2, { args: { 'max-running-requests': 96 }, modal: {} }, 'infeasible'),
      ],
      chosen: null,
      best: null,
    });
    const text = renderTuneReport({ ...input, result: missed, cost: undefined, patch: undefined });
    expect(text).toContain('## No point chosen\n\nNo trial met the SLO (2 trial(s): 1 measured, 1 infeasible;');
    expect(text).not.toContain('## Chosen');
    expect(text).not.toContain('## The spec patch');
    expect(text).not.toContain('Keep-warm strategy');
  });
});
