// A small inline-SVG chart (lines or points on linear axes) so the bench report is one file that needs no network.

/** One series of a chart; `isLine` joins the points in x order, otherwise they are dots. */
export interface ChartSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
  isLine: boolean;
  /** `ring` draws a larger hollow circle, to mark points drawn by another series too (the chosen one). @default dot */
  marker?: 'dot' | 'ring';
  /** Radius of a dot. @default 3.5 on a line, 2 otherwise */
  radius?: number;
  /** A short label beside each point, in the order of `points` (a trial number). */
  labels?: string[];
}

/** A vertical reference line (a limit on the x axis), with its label. */
export interface ChartLine {
  x: number;
  label: string;
  color: string;
}

/** What to draw: a title, axis labels and the series. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  verticalLines?: ChartLine[];
}

const WIDTH = 560;
const HEIGHT = 320;
const MARGIN = { left: 64, right: 16, top: 32, bottom: 48 };

/** The chart as an `<svg>` element. */
export function svgChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const lines = (spec.verticalLines ?? []).filter((line) => Number.isFinite(line.x));
  const xTicks = niceTicks(0, Math.max(...all.map(([x]) => x), ...lines.map((line) => line.x), 1e-9));
  const yTicks = niceTicks(0, Math.max(...all.map(([, y]) => y), 1e-9));
  const xMax = xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + (x / xMax) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  for (const tick of xTicks) {
    parts.push(
      `<line x1="${px(tick)}" y1="${MARGIN.top}" x2="${px(tick)}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${px(tick)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${py(tick)}" x2="${MARGIN.left + plotW}" y2="${py(tick)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${py(tick) + 4}" text-anchor="end" font-size="11">${formatTick(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(spec.yLabel)}</text>`,
  );
  for (const line of lines) {
    parts.push(
      `<line x1="${px(line.x).toFixed(1)}" y1="${MARGIN.top}" x2="${px(line.x).toFixed(1)}" y2="${MARGIN.top + plotH}" stroke="${line.color}" stroke-dasharray="6 4"/>`,
      `<text x="${(px(line.x) - 4).toFixed(1)}" y="${MARGIN.top + plotH - 6}" text-anchor="end" font-size="11" fill="${line.color}">${escapeXml(line.label)}</text>`,
    );
  }
  spec.series.forEach((series, i) => {
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (series.isLine) {
      const sorted = [...points].sort((a, b) => a[0] - b[0]);
      const path = sorted.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    }
    const radius = series.radius ?? (series.isLine ? 3.5 : 2);
    series.points.forEach(([x, y], p) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      parts.push(
        series.marker === 'ring'
          ? `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="7" fill="none" stroke="${series.color}" stroke-width="2"/>`
          : `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="${radius}" fill="${series.color}" fill-opacity="${series.isLine ? 1 : 0.5}"/>`,
      );
      const label = series.labels?.[p];
      if (label) {
        parts.push(
          `<text x="${(px(x) + 5).toFixed(1)}" y="${(py(y) - 5).toFixed(1)}" font-size="10" fill="${series.color}">${escapeXml(label)}</text>`,
        );
      }
    });
    const legendY = MARGIN.top + 14 + i * 16;
    parts.push(
      `<rect x="${MARGIN.left + 10}" y="${legendY - 9}" width="10" height="10" fill="${series.color}"/>`,
      `<text x="${MARGIN.left + 26}" y="${legendY}" font-size="11">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Round ticks from `low` to at least `high`: steps of 1, 2 or 5 × 10ⁿ, about five of them. */
export function niceTicks(low: number, high: number): number[] {
  const rough = (high - low) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let tick = low; tick < high + step * 0.999; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1000 ? value.toLocaleString('en-US') : String(Number(value.toPrecision(4)));
}

/** Text safe inside XML or HTML elements and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
