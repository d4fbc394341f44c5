import { tunePlot } from '../../src/cli/tune-plot';
import { finishedTune } from './tune-result-fixture';

interface Circle {
  cx: string;
  cy: string;
  r: string;
  fill: string;
  stroke?: string;
}

function circles(svg: string): Circle[] {
  return [
    ...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)" fill="([^"]+)"(?: stroke="([^"]+)")?/g),
  ].map((m) => ({ cx: m[1]!, cy: m[2]!, r: m[3]!, fill: m[4]!, ...(m[5] ? { stroke: m[5] } : {}) }));
}

/** The label text beside a dot, with the dot it belongs to (the label sits 5 px right of and above the dot). */
function labelled(svg: string): Map<string, { x: number; y: number; color: string }> {
  const labels = new Map<string, { x: number; y: number; color: string }>();
  for (const m of svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="10" fill="([^"]+)">(#\d+)<\/text>/g)) {
    labels.set(m[4]!, { x: Number(m[1]) - 5, y: Number(m[2]) + 5, color: m[3]! });
  }
  return labels;
}

describe('the tune plot: throughput against TTFT p95, the Pareto front, the chosen point and the SLO line', () => {
  const result = finishedTune();
  const svg = tunePlot({ app: result.app, trials: result.trials, chosen: result.chosen, ttftP95LimitMs: 300 });

  it('draws one labelled dot per measured trial, green when it meets the SLO and orange when it misses', () => {
    const labels = labelled(svg);
    // Trial 4 OOMed: no figures, no dot.
    expect([...labels.keys()].sort()).toEqual(['#1', '#2', '#3', '#5', '#6']);
    expect(labels.get('#3')!.color).toBe('#ff7f0e');
    expect(['#1', '#2', '#5', '#6'].map((k) => labels.get(k)!.color)).toEqual(Array(4).fill('#2ca02c'));
    const dots = circles(svg).filter((c) => c.r === '4');
    expect(dots).toHaveLength(5);
  });

  it('puts higher throughput higher and higher TTFT further right', () => {
    const labels = labelled(svg);
    // #3: 5,200 tok/s at 420 ms; #1: 3,400 tok/s at 180 ms.
    expect(labels.get('#3')!.y).toBeLessThan(labels.get('#1')!.y);
    expect(labels.get('#3')!.x).toBeGreaterThan(labels.get('#1')!.x);
  });

  it('joins the Pareto front (#1, #2, #3) in TTFT order, and rings the chosen trial at its own dot', () => {
    const polyline = /<polyline points="([^"]+)" fill="none" stroke="#1f77b4"/.exec(svg);
    expect(polyline).not.toBeNull();
    const labels = labelled(svg);
    const expected = ['#1', '#2', '#3'].map((k) => `${labels.get(k)!.x.toFixed(1)},${labels.get(k)!.y.toFixed(1)}`);
    expect(polyline![1]!.split(' ')).toEqual(expected);
    const ring = circles(svg).filter((c) => c.fill === 'none');
    expect(ring).toHaveLength(1);
    expect({ x: Number(ring[0]!.cx), y: Number(ring[0]!.cy), stroke: ring[0]!.stroke }).toEqual({
      x: Number(labels.get('#2')!.x.toFixed(1)),
      y: Number(labels.get('#2')!.y.toFixed(1)),
      stroke: '#d62728',
    });
    expect(svg).toContain('chosen: #2');
  });

  it('draws the SLO ceiling as a dashed vertical line between the trials it separates', () => {
    const line = /<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+" stroke="#d62728" stroke-dasharray/.exec(
      svg,
    );
    expect(line).not.toBeNull();
    const x = Number(line![1]);
    const labels = labelled(svg);
    expect(labels.get('#2')!.x).toBeLessThan(x);
    expect(labels.get('#3')!.x).toBeGreaterThan(x);
    expect(svg).toContain('SLO TTFT p95 300 ms');
  });

  it('has no ring when nothing was chosen, and still an SLO line when no trial measured', () => {
    const none = tunePlot({ app: 'x', trials: result.trials, chosen: null, ttftP95LimitMs: 300 });
    expect(circles(none).filter((c) => c.fill === 'none')).toEqual([]);
    const empty = tunePlot({ app: 'x', trials: [result.trials[3]!], chosen: null, ttftP95LimitMs: 300 });
    expect(circles(empty)).toEqual([]);
    expect(empty).toContain('SLO TTFT p95 300 ms');
  });
});
