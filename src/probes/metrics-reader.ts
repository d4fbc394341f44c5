import { ensureOk, probeFetch, readBodyText, type ProbeTarget } from './probe-target';

// The package ships no types; this is the prom2json-compatible shape it returns.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheusTextFormat = require('parse-prometheus-text-format') as (text: string) => RawFamily[];

interface RawFamily {
  name: string;
  help?: string;
  type: string;
  metrics: Array<{
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}

/** Prometheus metric types, as the exposition's `# TYPE` line names them. */
export type MetricType = 'gauge' | 'counter' | 'histogram' | 'summary' | 'untyped';

/** One series of a family: its labels and value (histograms: bucket counts, count and sum when given). */
export interface MetricSeries {
  labels: Record<string, string>;
  value?: number;
  buckets?: Record<string, number>;
  count?: number;
  sum?: number;
}

/** A metric family: name, help text, type and series. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  series: MetricSeries[];
}

/** The families of one exposition, by name. */
export type MetricFamilies = Map<string, MetricFamily>;

/** SGLang's core series (metric prefix `sglang:` with a colon) that a serving engine with `--enable-metrics` exposes. */
export const SGLANG_CORE_METRICS = [
  'sglang:num_running_reqs',
  'sglang:num_queue_reqs',
  'sglang:token_usage',
  'sglang:gen_throughput',
  'sglang:time_to_first_token_seconds',
] as const;

/** Parses Prometheus text exposition into families (an empty map when the text holds none). */
export function parseMetricsText(text: string): MetricFamilies {
  const families: MetricFamilies = new Map();
  // The parser drops a final sample line that has no trailing newline.
  let raws: RawFamily[];
  try {
    raws = parsePrometheusTextFormat(text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    return families;
  }
  for (const raw of raws) {
    if (!METRIC_NAME.test(raw.name)) continue;
    families.set(raw.name, {
      name: raw.name,
      help: raw.help ?? '',
      type: toMetricType(raw.type),
      series: raw.metrics.map((metric) => ({
        labels: metric.labels ?? {},
        value: toNumber(metric.value),
        buckets: metric.buckets
          ? Object.fromEntries(Object.entries(metric.buckets).map(([le, count]) => [le, Number(count)]))
          : undefined,
        count: toNumber(metric.count),
        sum: toNumber(metric.sum),
      })),
    });
  }
  for (const family of families.values()) {
    if (family.type === 'histogram') family.series = histogramSeries(text, family.name);
  }
  return families;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE_LINE = /^([^\s{]+)(?:\{([^}]*)\})?\s+(\S+)/;
const LABEL_PAIR = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Histogram series grouped by their labels (without `le`), read straight from the text: the parser loses the
 * labels, `_sum` and `_count` of labelled histograms, and SGLang labels every series.
 */
function histogramSeries(text: string, name: string): MetricSeries[] {
  const byLabels = new Map<string, MetricSeries>();
  for (const line of text.split('\n')) {
    const match = SAMPLE_LINE.exec(line.trim());
    if (!match || !match[1]!.startsWith(name)) continue;
    const suffix = match[1]!.slice(name.length);
    if (suffix !== '_bucket' && suffix !== '_sum' && suffix !== '_count') continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[pair[1]!] = pair[2]!;
    const le = labels.le;
    delete labels.le;
    const key = JSON.stringify(Object.entries(labels).sort());
    const series = byLabels.get(key) ?? { labels, buckets: {} };
    byLabels.set(key, series);
    const value = Number(match[3]);
    if (suffix === '_bucket' && le !== undefined) series.buckets![le] = value;
    else if (suffix === '_sum') series.sum = value;
    else if (suffix === '_count') series.count = value;
  }
  return [...byLabels.values()];
}

/** One scrape of /metrics. */
export interface MetricsSnapshot {
  contentType: string;
  families: MetricFamilies;
  /** The raw exposition text. */
  text: string;
}

/** Fetches and parses /metrics; a non-2xx answer (404 without `--enable-metrics`) throws `ProbeHttpError`. */
export async function readMetrics(target: ProbeTarget): Promise<MetricsSnapshot> {
  const response = await probeFetch(target, '/metrics', { accept: 'text/plain' });
  await ensureOk(response, target, 'GET', '/metrics');
  const text = await readBodyText(response, target, 'GET', '/metrics');
  return { contentType: response.headers.get('content-type') ?? '', families: parseMetricsText(text), text };
}

/**
 * The value of a gauge (or counter) series whose labels include `labels` (SGLang's scheduler series carry
 * `tp_rank`, `pp_rank`, `moe_ep_rank`; request series `is_streaming`); the first match when several report.
 * Undefined when the family or a matching series is absent.
 */
export function readGauge(
  families: MetricFamilies,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return seriesWith(families, name, labels)[0]?.value;
}

/**
 * The sum over every series whose labels include `labels` (undefined when none matches). SGLang splits request
 * counters by `is_streaming` and scheduler gauges by rank, so a total is the sum of its series.
 */
export function readTotal(
  families: MetricFamilies,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matching = seriesWith(families, name, labels).filter((s) => s.value !== undefined);
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + (s.value ?? 0), 0);
}

/** The series of a family whose labels include `labels` (none when the family is absent). */
function seriesWith(families: MetricFamilies, name: string, labels: Record<string, string>) {
  return (families.get(name)?.series ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The names of `required` that the families lack. */
export function missingMetrics(families: MetricFamilies, required: readonly string[] = SGLANG_CORE_METRICS): string[] {
  return required.filter((name) => !families.has(name));
}

function toMetricType(type: string): MetricType {
  const lower = type.toLowerCase();
  return lower === 'gauge' || lower === 'counter' || lower === 'histogram' || lower === 'summary' ? lower : 'untyped';
}

function toNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}
