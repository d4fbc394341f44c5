import type { BenchServingSummary } from './bench-summary';

// The rollout's performance gate as the workflow, the activity, the CLI and the tests see it: what was measured, the
// verdict with its reasons, and the decision a person (or the spec's default) took on an inconclusive verdict.

/** The load a measurement ran under, as the spec's `slo.load` resolved it. */
export interface PerformanceLoad {
  /** Users at once; null when only a request rate paces the arrivals. */
  concurrency: number | null;
  /** Poisson arrivals per second; null = as fast as the concurrency allows. */
  requestRate: number | null;
  requests: number;
  warmupRequests: number;
  /** The dataset in one phrase, e.g. "random 256→32 tokens". */
  dataset: string;
}

/** The figures the gate judges, read from one bench_serving summary (times in ms). */
export interface PerformanceFigures {
  ttftP50Ms: number;
  ttftP95Ms: number;
  tpotP50Ms: number;
  tpotP95Ms: number;
  /** Aggregate output tokens per second over the run. */
  outputTokensPerSec: number;
  requestsPerSec: number;
  /** The concurrency the server really saw (sum of latencies over the duration). */
  measuredConcurrency: number;
  completed: number;
  failed: number;
  /** failed / (completed + failed); 0 when nothing was sent. */
  errorRate: number;
  /** EAGLE's accept length from `/server_info`; null when the server reports none. */
  acceptLength: number | null;
  durationSec: number;
}

/** What the performance activity measured on one version. */
export interface PerformanceMeasurement {
  version: number;
  load: PerformanceLoad;
  /** Null when the load could not be run at all (`problems` says why). */
  figures: PerformanceFigures | null;
  /** bench_serving's own figures, for the record (`glm-ops bench --json` writes the same shape). */
  summary: BenchServingSummary | null;
  /** Signs the endpoint was not steady (unreachable, /health failing after the load): they make a verdict inconclusive. */
  problems: string[];
  /**
   * The local twin's engine time scale (1 elsewhere): below 1 its latencies are that fraction of the guide's, so the
   * figures are compared as measured and the report says they are scaled.
   */
  timeScale: number;
}

/** One figure against its threshold. */
export interface PerformanceCheck {
  /** e.g. "TTFT p95", "output tok/s", "TTFT p95 vs v3". */
  figure: string;
  measured: number;
  limit: number;
  /** `max`: measured must not exceed the limit; `min`: must not fall below it. */
  bound: 'max' | 'min';
  unit: 'ms' | 'tok/s' | 'tokens' | '%';
  isPassed: boolean;
}

/** The memo key under which a rollout whose gate measured figures records them as a {@link PerformanceBaseline}. */
export const PERFORMANCE_MEMO = 'performance';

/** The version replaced, with the figures its own rollout recorded. */
export interface PerformanceBaseline {
  version: number;
  load: PerformanceLoad;
  figures: PerformanceFigures;
}

/** pass → continue; fail → compensate; inconclusive → pause and ask. */
export type PerformanceVerdictKind = 'pass' | 'fail' | 'inconclusive';

/** The gate's judgement of one measurement. */
export interface PerformanceVerdict {
  verdict: PerformanceVerdictKind;
  /** Why, one line each: the failed checks, or what made the evidence insufficient. */
  reasons: string[];
  checks: PerformanceCheck[];
  /** The previous version's figures when they were compared (same load), for the side-by-side report. */
  baseline?: PerformanceBaseline;
  /** Why no comparison was made, when a regression limit is set but none could be. */
  baselineNote?: string;
}

/** What a person (or the spec's default, on timeout) decided about an inconclusive verdict. */
export interface PerformanceDecision {
  decision: 'promote' | 'abort';
  reason: string;
  by: string;
  at: string;
  /** `person`: a `decide` update; `timeout`: nobody answered within `slo.onInconclusive.timeout`. */
  source: 'person' | 'timeout';
}

/** The question an inconclusive gate asks while the rollout waits. */
export interface PerformanceQuestion {
  version: number;
  reasons: string[];
  /** When the spec's default decision applies. */
  deadline: string;
  defaultDecision: 'promote' | 'abort';
  /** The command that answers it. */
  howToAnswer: string;
}

/** Everything the performance phase recorded: the status, the result and the next rollout's baseline read it. */
export interface PerformanceReport {
  measurement: PerformanceMeasurement;
  verdict: PerformanceVerdict;
  decision?: PerformanceDecision;
}

/** The argument of the rollout's `decide` update. */
export interface DecideInput {
  decision: 'promote' | 'abort';
  reason: string;
  /** Who decided (the CLI sends the OS user unless `--by` is given). */
  by: string;
}
