import * as z from 'zod';

// The performance gate's part of the spec: the figures users state (guide §9 tuning triangle, §10 baselines) and the
// load they are measured under. Kept beside schema.ts so the gate's growth stays out of the rest of the spec.

const Seconds = z.number().positive();

/** The prompts of the measurement: bench_serving's dataset names that glm-ops' load generator implements. */
export const SloDataset = z.discriminatedUnion('name', [
  z.strictObject({
    name: z.literal('random'),
    /** Prompt tokens per request. @default 256 */
    inputLen: z.number().int().min(1).max(1_000_000).default(256),
    /** Output tokens per request (sent with ignore_eos). @default 32 */
    outputLen: z.number().int().min(1).max(100_000).default(32),
    /** Lengths vary in [ratio × len, len], as bench_serving's `--random-range-ratio`. @default 1 */
    rangeRatio: z.number().min(0).max(1).default(1),
  }),
  z.strictObject({
    name: z.enum(['sharegpt', 'jsonl']),
    /** A file on the worker's machine, read by the load generator. */
    path: z.string().min(1).max(4096),
  }),
  /** The guide's four diverse warm-up prompts, repeated. */
  z.strictObject({ name: z.literal('warmup') }),
]);
export type SloDataset = z.output<typeof SloDataset>;

const DEFAULT_DATASET = { name: 'random', inputLen: 256, outputLen: 32, rangeRatio: 1 } as const;

/**
 * The load the gate measures under. Small by default (4 concurrent users, 16 requests after 2 discarded), so a local
 * demo gates in seconds; state the load your SLO is promised at (the guide's baselines are per replica, §10).
 */
export const SloLoad = z
  .strictObject({
    /** Users at once (bench_serving's `--max-concurrency`). @default 4 when no requestRate is set */
    concurrency: z.number().int().min(1).max(10_000).optional(),
    /** Poisson arrivals per second (bench_serving's `--request-rate`); may be combined with concurrency as a cap. */
    requestRate: z.number().positive().max(100_000).optional(),
    /** @default { name: random, inputLen: 256, outputLen: 32, rangeRatio: 1 } */
    dataset: SloDataset.default(DEFAULT_DATASET),
    /** Requests measured. @default 16, or requestRate × durationSec when a duration is given */
    requests: z.number().int().min(1).max(1_000_000).optional(),
    /** Seconds of arrivals at requestRate (the request count follows from it); needs requestRate. */
    durationSec: Seconds.max(86_400).optional(),
    /** Requests sent first and discarded (cold caches, first graph use). @default 2 */
    warmupRequests: z.number().int().min(0).max(10_000).default(2),
  })
  .superRefine((load, context) => {
    if (load.durationSec !== undefined && load.requestRate === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['durationSec'],
        message: 'durationSec needs requestRate (the request count is requestRate × durationSec): set requestRate',
      });
    }
    if (load.durationSec !== undefined && load.requests !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['requests'],
        message:
          'give requests or durationSec, not both: durationSec already fixes the count (requestRate × durationSec)',
      });
    }
  });
export type SloLoad = z.output<typeof SloLoad>;

/** What the gate does when its verdict is inconclusive and nobody answers `glm-ops decide` in time. */
export const SloOnInconclusive = z.strictObject({
  /** Seconds the rollout waits for a decision. @default 1800 */
  timeout: Seconds.max(7 * 86_400).default(1800),
  /** The decision when nobody answered: abort (roll back) or promote (keep the new version). @default abort */
  default: z.enum(['promote', 'abort']).default('abort'),
});
export type SloOnInconclusive = z.output<typeof SloOnInconclusive>;

/**
 * Service-level objectives and the rollout's performance gate (after the smoke tests): the new version is measured
 * under `load` and must meet every figure stated here. Unset figures are not checked; TTFT p95 always is.
 */
export const SloSpec = z
  .strictObject({
    /** Run the performance phase in every rollout. @default true */
    enabled: z.boolean().default(true),
    /** TTFT p95 ceiling. @default 300 (guide §9: TTFT under ~300 ms; §10: ~246 ms warm at low concurrency on B200) */
    ttftP95Ms: z.number().positive().max(600_000).default(300),
    /** TPOT median ceiling. @example 12 (guide §10: ~7.7 ms with EAGLE, ~20 ms without) */
    tpotP50Ms: z.number().positive().max(60_000).optional(),
    /** TPOT p95 ceiling. @example 15 */
    tpotP95Ms: z.number().positive().max(60_000).optional(),
    /** Aggregate output tokens per second floor at the load's concurrency. @example 4000 (guide §10: ~4,600 at 48) */
    minOutputTokensPerSec: z.number().positive().max(100_000_000).optional(),
    /** Floor of EAGLE's accept length from `/server_info`. @example 3 (guide §10: ~3.5) */
    minAcceptLength: z.number().min(1).max(16).optional(),
    /** Failed requests above this fraction make the verdict inconclusive (latencies over errors are no evidence). @default 0.05 */
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    /** Fewer completed requests than this make the verdict inconclusive. @default 8 */
    minSamples: z.number().int().min(1).max(1_000_000).default(8),
    /**
     * Fail when TTFT p95 (or TPOT p95) is more than this many percent worse than the version replaced measured at
     * the same load (Kayenta-style); unset = no comparison. @example 20
     */
    maxRegressionPct: z.number().positive().max(10_000).optional(),
    load: SloLoad.default(SloLoad.parse({})),
    onInconclusive: SloOnInconclusive.default(SloOnInconclusive.parse({})),
  })
  .superRefine((slo, context) => {
    const requests = sloRequestCount(slo.load);
    if (slo.minSamples > requests) {
      context.addIssue({
        code: 'custom',
        path: ['minSamples'],
        message: `minSamples ${slo.minSamples} is more than the ${requests} requests the load sends: lower minSamples or raise load.requests`,
      });
    }
  });
export type SloSpec = z.output<typeof SloSpec>;

/** The requests the gate measures: `requests`, else requestRate × durationSec, else 16. */
export function sloRequestCount(load: Pick<SloLoad, 'requests' | 'requestRate' | 'durationSec'>): number {
  if (load.requests !== undefined) return load.requests;
  if (load.durationSec !== undefined && load.requestRate !== undefined) {
    return Math.max(1, Math.ceil(load.requestRate * load.durationSec));
  }
  return 16;
}

/** The concurrency the gate measures at: the stated one, else 4 when arrivals are not paced by a rate. */
export function sloConcurrency(load: Pick<SloLoad, 'concurrency' | 'requestRate'>): number | undefined {
  return load.concurrency ?? (load.requestRate === undefined ? 4 : undefined);
}
