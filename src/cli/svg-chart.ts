// A small inline-SVG chart (lines or points on linear axes) so the bench report is one file that needs no network.

/** One series of a chart; `isLine` joins the points in x order, otherwise they are dots. */
export interface ChartSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
  isLine: boolean;
}

/** What to draw: a title, axis labels and the series. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
}

const WIDTH = 560;
const HEIGHT = 320;
const MARGIN = { left: 64, right: 16, top: 32, bottom: 48 };

/** The chart as an `<svg>` element. */
export function svgChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xTicks = niceTicks(0, Math.max(...all.map(([x]) => x), 1e-9));
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
  spec.series.forEach((series, i) => {
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (series.isLine) {
      const sorted = [...points].sort((a, b) => a[0] - b[0]);
      const path = sorted.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    }
    const radius = series.isLine ? 3.5 : 2;
    for (const [x, y] of points) {
      parts.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="${radius}" fill="${series.color}" fill-opacity="${series.isLine ? 1 : 0.5}"/>`,
      );
    }
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
