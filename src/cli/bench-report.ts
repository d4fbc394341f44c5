import type { BenchRun, RequestRecord } from '../loadgen';
import { benchTable } from './bench-table';
import { escapeXml, svgChart, type ChartSeries } from './svg-chart';

/** One run of the report: its label (`concurrency 48`, `rate 3.2/s`) and what it measured. */
export interface ReportLevel {
  label: string;
  run: BenchRun;
}

const BLUE = '#1f77b4';
const ORANGE = '#ff7f0e';
const GREEN = '#2ca02c';

/**
 * The bench report: one self-contained HTML file (inline SVG and CSS, no script, no network). A sweep draws TTFT,
 * TPOT and output throughput against the concurrency each level really reached (Σ E2E / duration); a single run
 * draws each request against the requests in flight when it was sent, and each second's output tokens against the
 * requests open in it. Then each run's bench_serving table.
 */
export function renderBenchReport(input: { title: string; levels: ReportLevel[]; generatedAt: string }): string {
  const charts = input.levels.length > 1 ? sweepCharts(input.levels) : singleRunCharts(input.levels[0]!.run);
  const tables = input.levels
    .map((level) => `<h2>${escapeXml(level.label)}</h2>\n<pre>${escapeXml(benchTable(level.run))}</pre>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
svg { font-family: system-ui, sans-serif; background: #fff; }
pre { background: #f6f6f6; padding: 1em; display: inline-block; }
</style>
</head>
<body>
<h1>${escapeXml(input.title)}</h1>
<p>Generated ${escapeXml(input.generatedAt)} by glm-ops bench. Figures follow SGLang bench_serving's definitions:
TTFT is send → first output chunk, TPOT is (latency − TTFT) / (output tokens − 1), concurrency is Σ E2E / duration.</p>
<div class="charts">
${charts.join('\n')}
</div>
${tables}
</body>
</html>
`;
}

type Points = Array<[number, number]>;

/** Charts sharing an x axis and a mark (lines for a sweep, dots for one run): `[title, y label, series]` each. */
function charts(
  xLabel: string,
  isLine: boolean,
  specs: Array<[string, string, Array<[string, string, Points]>]>,
): string[] {
  return specs.map(([title, yLabel, series]) =>
    svgChart({
      title,
      xLabel,
      yLabel,
      series: series.map(([name, color, points]): ChartSeries => ({ name, color, points, isLine })),
    }),
  );
}

function sweepCharts(levels: ReportLevel[]): string[] {
  const at = (pick: (s: BenchRun['summary']) => number): Points =>
    levels.map(({ run }) => [run.summary.concurrency, pick(run.summary)]);
  return charts('measured concurrency (Σ E2E / duration)', true, [
    [
      'TTFT against load',
      'TTFT (ms)',
      [
        ['median', BLUE, at((s) => s.median_ttft_ms)],
        ['p95', ORANGE, at((s) => s.p95_ttft_ms)],
      ],
    ],
    [
      'TPOT against load',
      'TPOT (ms)',
      [
        ['median', BLUE, at((s) => s.median_tpot_ms)],
        ['p95', ORANGE, at((s) => s.p95_tpot_ms)],
      ],
    ],
    ['Throughput against load', 'output tokens/s', [['output throughput', GREEN, at((s) => s.output_throughput)]]],
  ]);
}

function singleRunCharts(run: BenchRun): string[] {
  const ok = run.records.filter((r) => r.success);
  const inFlight = inFlightAtSend(ok);
  const ttft: Points = ok.map((r, i) => [inFlight[i]!, r.ttft * 1000]);
  const tpot = ok.flatMap((r, i): Points =>
    r.outputTokens > 1 ? [[inFlight[i]!, ((r.latency - r.ttft) / (r.outputTokens - 1)) * 1000]] : [],
  );
  return [
    ...charts('requests in flight when sent', false, [
      ['TTFT against load', 'TTFT (ms)', [['each request', BLUE, ttft]]],
      ['TPOT against load', 'TPOT (ms)', [['each request', ORANGE, tpot]]],
    ]),
    ...charts('requests open in the second', false, [
      ['Throughput against load', 'output chunks/s', [['each second', GREEN, perSecond(ok)]]],
    ]),
  ];
}

/** For each request, how many others were in flight the moment it was sent (itself included). */
function inFlightAtSend(records: RequestRecord[]): number[] {
  return records.map(
    (r) => records.filter((o) => o.startTime <= r.startTime && o.startTime + o.latency > r.startTime).length,
  );
}

/** Each whole second of the run: requests open in it, output chunks that arrived in it. */
function perSecond(records: RequestRecord[]): Points {
  if (records.length === 0) return [];
  const first = Math.min(...records.map((r) => r.startTime));
  const seconds = Math.ceil(Math.max(...records.map((r) => r.startTime + r.latency)) - first) + 1;
  const chunks = new Array<number>(seconds).fill(0);
  const open = new Array<number>(seconds).fill(0);
  for (const r of records) {
    let at = r.startTime + r.ttft;
    chunks[Math.trunc(at - first)]!++;
    for (const gap of r.itl) {
      at += gap;
      chunks[Math.min(seconds - 1, Math.trunc(at - first))]!++;
    }
    for (
      let s = Math.trunc(r.startTime - first);
      s <= Math.min(seconds - 1, Math.trunc(r.startTime + r.latency - first));
      s++
    )
      open[s]!++;
  }
  return open.map((count, s) => [count, chunks[s]!]);
}
