import { log } from '@temporalio/activity';
import type { Platform } from '../platforms/platform';
import { probeHealth } from '../probes/health-probe';
import { readEngineInfo } from '../probes/engine-info';
import type { BenchServingSummary } from '../shared/bench-summary';
import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';
import type {
  PerformanceBaseline,
  PerformanceFigures,
  PerformanceLoad,
  PerformanceMeasurement,
} from '../shared/performance-types';
import { sloConcurrency, sloRequestCount, type SloDataset, type SloLoad } from '../spec/slo-schema';
import { keepHeartbeating } from './keep-heartbeating';
import type { AppRef } from './serving-activities';
import { withFailureTypes } from './to-application-failure';

/**
 * What the gate asks of the load generator (loadgen's `runBench` contract, plus the version every request is placed
 * on): the same definitions as SGLang's bench_serving.
 */
export interface GateBenchOptions {
  baseUrl: string;
  apiKey?: string;
  model: string;
  dataset: SloDataset;
  numPrompts: number;
  maxConcurrency?: number;
  requestRate?: number;
  warmupRequests?: number;
  /** The version header's value (the candidate), so the local router places the load on it; Modal ignores it. */
  version?: number;
  signal?: AbortSignal;
  onProgress?: (p: { completed: number; failed: number; total: number }) => void;
}

/** A load generator: runs one measurement and returns bench_serving's figures. */
export type RunBench = (options: GateBenchOptions) => Promise<BenchServingSummary>;

/** What the performance activities need; secrets are resolved here and never travel in arguments. */
export interface PerformanceActivityDeps {
  platformNamed(name: 'local' | 'modal'): Platform;
  resolveSecret(name: string): string;
  /** The load generator; a worker built without one reports the gate as unavailable. */
  runBench?: RunBench;
  /** The figures an earlier rollout's gate recorded for a version; absent = no baselines (no comparison). */
  readBaseline?: (app: string, version: number) => Promise<PerformanceBaseline | null>;
}

/** Input of one gate measurement. */
export interface MeasurePerformanceInput extends AppRef {
  secretName: string;
  servedName: string;
  /** The candidate: every request carries its number. */
  version: number;
  load: SloLoad;
  /** The local twin's engine time scale (1 on Modal), reported beside the figures. */
  timeScale: number;
  /** Per-probe limit of the health checks around the load. */
  probeTimeoutSec: number;
}

/** Thrown when the worker has no load generator: a person has to run a worker that has one. */
export class LoadGeneratorMissingError extends DomainError {
  readonly errorType = ErrorType.PlatformUnavailable;
  constructor() {
    super('this worker has no load generator for the performance gate: run a worker built with src/loadgen');
  }
}

/** The rollout's performance measurement: the candidate under the spec's load, its accept length, its health. */
export const createPerformanceActivities = (deps: PerformanceActivityDeps) =>
  withFailureTypes({
    /** The figures the rollout of `version` recorded when its gate passed; null when it recorded none. */
    async performanceBaseline(input: { app: string; version: number }): Promise<PerformanceBaseline | null> {
      return deps.readBaseline ? deps.readBaseline(input.app, input.version) : null;
    },

    /**
     * Measures the new version under `slo.load` with the loadgen (bench_serving's definitions), reads EAGLE's accept
     * length from `/server_info` and checks /health before and after. A load that could not run, or a /health that
     * failed around it, is returned as a problem, not thrown: the gate's verdict is then inconclusive (pause and
     * ask), which only the workflow decides. Heartbeats while the load runs; a cancellation (abort) stops it.
     */
    async measurePerformance(input: MeasurePerformanceInput): Promise<PerformanceMeasurement> {
      const runBench = deps.runBench;
      if (!runBench) throw new LoadGeneratorMissingError();
      const apiKey = deps.resolveSecret(input.secretName);
      const { url } = await deps.platformNamed(input.platform).endpoint(input.app);
      const load = describeGateLoad(input.load);
      const target = { baseUrl: url, apiKey, version: input.version, timeoutMs: input.probeTimeoutSec * 1000 };
      const problems: string[] = [];
      let progress = { completed: 0, failed: 0, total: load.requests };
      return keepHeartbeating(
        async (signal) => {
          const before = await probeHealth({ ...target, signal });
          if (before.outcome !== 'ok') problems.push(`/health before the load: ${before.detail}`);
          let summary: BenchServingSummary | null = null;
          try {
            summary = await runBench({
              baseUrl: url,
              apiKey,
              model: input.servedName,
              dataset: input.load.dataset,
              numPrompts: load.requests,
              ...(load.concurrency === null ? {} : { maxConcurrency: load.concurrency }),
              ...(load.requestRate === null ? {} : { requestRate: load.requestRate }),
              warmupRequests: load.warmupRequests,
              version: input.version,
              signal,
              onProgress: (p) => (progress = p),
            });
          } catch (err) {
            if (signal.aborted) throw err;
            problems.push(`the load could not run: ${describeError(err, apiKey)}`);
          }
          const after = await probeHealth({ ...target, signal });
          if (after.outcome !== 'ok') problems.push(`/health after the load: ${after.detail}`);
          const acceptLength = summary ? await acceptLengthOf(summary, { ...target, signal }) : null;
          const measurement: PerformanceMeasurement = {
            version: input.version,
            load,
            figures: summary ? figuresOf(summary, acceptLength) : null,
            summary,
            problems,
            timeScale: input.timeScale,
          };
          log.info('performance measured', {
            app: input.app,
            version: input.version,
            ttftP95Ms: measurement.figures?.ttftP95Ms,
            completed: measurement.figures?.completed,
            problems: problems.length,
          });
          return measurement;
        },
        { details: () => progress },
      );
    },
  });

/** The spec's load, resolved: the defaults filled in, the dataset in one phrase. */
export function describeGateLoad(load: SloLoad): PerformanceLoad {
  return {
    concurrency: sloConcurrency(load) ?? null,
    requestRate: load.requestRate ?? null,
    requests: sloRequestCount(load),
    warmupRequests: load.warmupRequests,
    dataset: describeDataset(load.dataset),
  };
}

/** The figures the judge reads, from bench_serving's summary and the accept length. */
export function figuresOf(summary: BenchServingSummary, acceptLength: number | null): PerformanceFigures {
  const sent = summary.completed + summary.failed;
  return {
    ttftP50Ms: summary.median_ttft_ms,
    ttftP95Ms: summary.p95_ttft_ms,
    tpotP50Ms: summary.median_tpot_ms,
    tpotP95Ms: summary.p95_tpot_ms,
    outputTokensPerSec: summary.output_throughput,
    requestsPerSec: summary.request_throughput,
    measuredConcurrency: summary.concurrency,
    completed: summary.completed,
    failed: summary.failed,
    errorRate: sent === 0 ? 0 : summary.failed / sent,
    acceptLength,
    durationSec: summary.duration,
  };
}

function describeDataset(dataset: SloDataset): string {
  if (dataset.name === 'random') {
    const range = dataset.rangeRatio < 1 ? ` (range ratio ${dataset.rangeRatio})` : '';
    return `random ${dataset.inputLen}→${dataset.outputLen} tokens${range}`;
  }
  if (dataset.name === 'warmup') return 'the warmup prompts';
  return `${dataset.name} ${dataset.path}`;
}

/** The loadgen's accept length, else `/server_info` of the candidate read directly; null when neither says. */
async function acceptLengthOf(
  summary: BenchServingSummary,
  target: Parameters<typeof readEngineInfo>[0],
): Promise<number | null> {
  if (summary.accept_length !== null && summary.accept_length !== undefined) return summary.accept_length;
  try {
    return (await readEngineInfo(target)).avgSpecAcceptLength;
  } catch {
    return null;
  }
}

function describeError(err: unknown, secret: string): string {
  const text = err instanceof Error ? err.message : String(err);
  return secret ? text.split(secret).join('***') : text;
}
