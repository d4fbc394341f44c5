import * as z from 'zod';
import { SloLoad } from './slo-schema';

// The tuner's part of the spec (`tune:`, or a `--space` file holding the same section): the levers to search, the
// workload they are measured under, what "best" means and what the search may spend. Kept beside schema.ts, as the
// performance gate's part is, so the tuner's growth stays out of the rest of the spec.

/** Levers of `modal:` the tuner may vary (guide §1: max_inputs against the running cap, §4: 3 × 48 slots). */
export const TUNABLE_MODAL_FIELDS = ['maxInputs', 'maxContainers'] as const;
export type TunableModalField = (typeof TUNABLE_MODAL_FIELDS)[number];

/** A value a lever takes, as `sglang.args` holds them (false = the flag omitted). */
const LeverValue = z.union([z.string(), z.number(), z.boolean()]);

/** An evenly spaced numeric range, both ends included: `{ from: 32, to: 64, step: 8 }` = 32, 40, 48, 56, 64. */
export const LeverRange = z
  .strictObject({
    from: z.number(),
    to: z.number(),
    step: z.number().positive(),
  })
  .superRefine((range, context) => {
    if (range.to < range.from) {
      context.addIssue({ code: 'custom', path: ['to'], message: `to ${range.to} is below from ${range.from}` });
    } else if ((range.to - range.from) / range.step > 64) {
      context.addIssue({
        code: 'custom',
        path: ['step'],
        message: `the range holds more than 65 values: raise step or narrow from…to`,
      });
    }
  });
export type LeverRange = z.output<typeof LeverRange>;

/** The values one lever may take: a list, or a numeric range. */
export const LeverValues = z.union([z.array(LeverValue).min(1).max(65), LeverRange]);
export type LeverValues = z.output<typeof LeverValues>;

/**
 * The search space. `args` are SGLang flags as `sglang.args` spells them (`false` = the flag omitted, so
 * `speculative-algorithm: [EAGLE, false]` compares EAGLE with plain decoding); `modal` the scaling fields.
 */
export const TuneSpace = z
  .strictObject({
    /** @example { max-running-requests: [32, 40, 48, 64], mem-fraction-static: [0.85, 0.88, 0.9] } */
    args: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be an SGLang flag without dashes'), LeverValues)
      .default({}),
    /** @example { maxInputs: [20, 48], maxContainers: [1, 2, 3] } */
    modal: z.partialRecord(z.enum(TUNABLE_MODAL_FIELDS), LeverValues).default({}),
  })
  .superRefine((space, context) => {
    if (Object.keys(space.args).length + Object.keys(space.modal).length === 0) {
      context.addIssue({ code: 'custom', message: 'names no lever: add at least one under args or modal' });
    }
  });
export type TuneSpace = z.output<typeof TuneSpace>;

/** What the search maximises among the trials that meet the SLO. */
export const TuneObjective = z.enum(['output-tokens-per-sec', 'tokens-per-dollar']);
export type TuneObjective = z.output<typeof TuneObjective>;

/** What the whole tune may spend; the first limit reached ends it (the trials finished are kept). */
export const TuneBudget = z.strictObject({
  /** Trials at most, infeasible ones included. @default 12 */
  trials: z.number().int().min(1).max(1_000).default(12),
  /** GPU-hours at most (trial time × GPUs per replica × replicas). */
  gpuHours: z.number().positive().max(100_000).optional(),
  /** Dollars at most, priced with the cost model's GPU price. */
  dollars: z.number().positive().max(10_000_000).optional(),
});
export type TuneBudget = z.output<typeof TuneBudget>;

/** How the next trials are chosen: `guided` prunes with what the guide says the levers do; `grid` tries every point. */
export const TuneStrategy = z.enum(['guided', 'grid']);
export type TuneStrategy = z.output<typeof TuneStrategy>;

/** The tuner's section of a spec. */
export const TuneSpec = z.strictObject({
  space: TuneSpace,
  /** The load every trial is measured under; the spec's `slo` figures are the constraints. @default slo.load */
  workload: SloLoad.optional(),
  /** @default output-tokens-per-sec */
  objective: TuneObjective.default('output-tokens-per-sec'),
  budget: TuneBudget.default(TuneBudget.parse({})),
  /** @default guided */
  strategy: TuneStrategy.default('guided'),
});
export type TuneSpec = z.output<typeof TuneSpec>;
export type TuneSpecInput = z.input<typeof TuneSpec>;
