import * as z from 'zod';
import { describeUnsafeArgValue, describeUnsafeFlagName } from './arg-safety';
import { CronSyntaxError, parseCron } from './cron-schedule';
import { describeKnownArgTypeProblem } from './known-sglang-args';
import { NotifySpec } from './notify-schema';
import { SloSpec } from './slo-schema';
import { TuneSpec } from './tune-schema';

export { SloSpec } from './slo-schema';

/**
 * Values an SGLang flag may take in `sglang.args`: `true` renders a bare switch, `false` omits the flag,
 * strings and numbers render as one argv element each. The argv is an array, never a shell string.
 */
export const SglangArgValue = z.union([z.string(), z.number(), z.boolean()]);
export type SglangArgValue = z.infer<typeof SglangArgValue>;

/** Modal app names: letters, digits, dashes, dots and underscores, under 64 characters. */
export const AppName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'must start with a letter or digit and hold only letters, digits, ".", "_", "-"',
  );

/** A volume or secret name as Modal accepts them. */
const ObjectName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must hold only letters, digits, ".", "_", "-"');

const Seconds = z.number().positive();

/** The model checkpoint: a Hugging Face repo at a revision. */
export const ModelSpec = z.strictObject({
  /** @example zai-org/GLM-5.1-FP8 */
  repo: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be "owner/name"'),
  /** A branch, tag or 40-hex commit; a pinned commit is recommended. @default main */
  revision: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a branch, tag or commit sha')
    .default('main'),
  /** The id `/v1/models` lists and chat requests name. @example glm-5.1 */
  servedName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'must be a plain model id'),
  /** Checkpoint size in GB, used by the feasibility and watchdog rules. @default 700 */
  weightsGB: z.number().positive().max(100_000).default(700),
});

/** GPUs per replica. */
export const GpuSpec = z.strictObject({
  /** A type from the GPU catalog (B200, H200, H100, B300). Unknown types are a lint error. */
  type: z.string().min(1).max(32),
  /** GPUs per container; Modal allows up to 8. */
  count: z.number().int().min(1).max(8),
  /** Price override in $ per GPU-hour for the cost model; else `GLM_OPS_GPU_PRICE_<TYPE>`, else the GPU catalog. */
  dollarsPerGpuHour: z.number().positive().max(1000).optional(),
});

/** The SGLang engine: image and launch flags. */
export const SglangSpec = z.strictObject({
  /** Container image tag of the SGLang release. */
  image: z.string().min(1).max(256),
  /**
   * Flags spelled as SGLang spells them, without leading dashes; rendered in the order written. Unknown flags pass
   * through, but every name and value is checked (no whitespace, newlines, shell syntax or leading dashes), and the
   * flags of the guide's launch command are type-checked. @example { mem-fraction-static: 0.88, enable-metrics: true }
   */
  args: z
    .record(z.string(), SglangArgValue)
    .default({})
    .superRefine((args, ctx) => {
      for (const [flag, value] of Object.entries(args)) {
        const problem =
          describeUnsafeFlagName(flag) ?? describeUnsafeArgValue(value) ?? describeKnownArgTypeProblem(flag, value);
        if (problem) ctx.addIssue({ code: 'custom', path: [flag], message: problem, input: value });
      }
    }),
});

/** `@app.cls` scaling and `@modal.concurrent` (guide §1). */
export const ModalSpec = z.strictObject({
  /** @default 0 (scale to zero) */
  minContainers: z.number().int().min(0).max(100).default(0),
  /** @default 3 (3 × 48 ≈ 144 decode slots) */
  maxContainers: z.number().int().min(1).max(100).default(3),
  /** Seconds idle before scale-down. @default 900 */
  scaledownWindow: z.number().int().min(2).max(86_400).default(900),
  /** Modal-level inputs per container before spilling to a new replica. @default 20 */
  maxInputs: z.number().int().min(1).max(10_000).default(20),
});

/** Volume names (guide: glm51-model-weights, glm51-deepgemm-cache). */
export const VolumesSpec = z.strictObject({
  weights: ObjectName.default('glm51-model-weights'),
  kernels: ObjectName.default('glm51-deepgemm-cache'),
});

/** Health polling after deploy. */
export const HealthSpec = z.strictObject({
  /** Seconds to wait for /health 200. @default 900 */
  startupTimeout: Seconds.max(86_400).default(900),
  /** Seconds between polls. @default 1 */
  pollInterval: Seconds.max(600).default(1),
});

/** Warmup after health (guide §6, §18: 600 s for first-time graph capture). */
export const WarmupSpec = z.strictObject({
  /** @default 600 */
  timeout: Seconds.max(86_400).default(600),
});

/** Keep-warm schedule (guide §6, §19). */
export const KeepWarmSpec = z.strictObject({
  /** Five-field cron. @default "*\/14 6-22 * * MON-FRI" */
  cron: z.string().min(1).max(200).default('*/14 6-22 * * MON-FRI'),
  /** IANA time zone. @default America/New_York */
  timezone: z.string().min(1).max(64).default('America/New_York'),
  /** @default false */
  enabled: z.boolean().default(false),
  /** `ping` = the guide's cron ping of /health; `pin` = min containers 1 during the window. @default ping */
  strategy: z.enum(['ping', 'pin']).default('ping'),
});

/**
 * Weights integrity (opt-in): a Temporal Schedule `verify/<app>` that re-hashes every weights file against the
 * sentinel and fails loudly, naming the files, on a mismatch. A stamp check before each rollout sees any file touched
 * through the filesystem; only a full re-hash sees bytes that changed without a write (a faulty disk).
 */
export const WeightsSpec = z.strictObject({
  verify: z
    .strictObject({
      /** Five-field cron of the full re-hash. @example "0 3 * * SUN" */
      schedule: z
        .string()
        .min(1)
        .max(200)
        .superRefine((cron, context) => {
          try {
            parseCron(cron);
          } catch (err) {
            if (!(err instanceof CronSyntaxError)) throw err;
            context.addIssue({
              code: 'custom',
              message: `${err.message}: write a five-field cron such as "0 3 * * SUN" (Sundays 03:00)`,
            });
          }
        }),
      /** IANA time zone of the cron. @default UTC */
      timezone: z
        .string()
        .min(1)
        .max(64)
        .default('UTC')
        .refine(isIanaTimeZone, 'is not an IANA time zone: use a name such as UTC, America/New_York or Europe/Berlin'),
    })
    .optional(),
});

function isIanaTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Names of secrets, never their values. */
export const SecretsSpec = z.strictObject({
  /** Secret holding the API key SGLang checks (`--api-key`). @default glm-api-key */
  apiKey: ObjectName.default('glm-api-key'),
});

/** Settings only the local platform reads. */
export const LocalSpec = z.strictObject({
  /** `emulator` (default) or a real `python3 -m sglang.launch_server`. */
  engine: z.enum(['emulator', 'sglang']).default('emulator'),
  /** Emulator time scale: 1 = the guide's real durations, 0.01 = a hundredth. @default 1 */
  timeScale: z.number().positive().max(10).default(1),
  /** Extra emulator settings (phase durations, fault plan), passed through to the emulator's JSON config. */
  emulator: z.record(z.string(), z.unknown()).default({}),
  /**
   * How particular SGLang images behave in the local twin: emulator settings merged over `emulator` when the spec's
   * image matches, e.g. a drill image that crashes on load so a failing upgrade can be rehearsed. @default {}
   */
  images: z
    .record(z.string().min(1).max(256), z.strictObject({ emulator: z.record(z.string(), z.unknown()).default({}) }))
    .default({}),
  /** The DeepGEMM compile twin: its unscaled duration and an injected failure, for demos and failure drills. */
  compile: z
    .strictObject({
      /** Unscaled compile seconds (scaled by timeScale). @default 600 */
      seconds: z.number().positive().max(86_400).default(600),
      /** Make the compile fail halfway (no marker is written). @default false */
      shouldFail: z.boolean().default(false),
    })
    .default({ seconds: 600, shouldFail: false }),
});

/** A value an acknowledgement accepts: what the finding's field holds (`null` = the field is unset). */
export const AcknowledgedValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type AcknowledgedValue = z.infer<typeof AcknowledgedValue>;

/**
 * One accepted lint warning: the value of the finding's field it accepts and why. The warning returns as soon as
 * the field holds another value (a `maxInputs: 20` accepted below 48 running requests says nothing about 8).
 * A bare reason string is the older form: it still silences its rule, for any value, with a warning to name it.
 */
export const Acknowledgement = z.union([
  z.string().min(3).max(500),
  z.strictObject({
    /** The value of the finding's field (its `path`) this acknowledgement accepts. @example 20 */
    value: AcknowledgedValue,
    /** Why it is accepted. */
    reason: z.string().min(3).max(500),
  }),
]);
export type Acknowledgement = z.infer<typeof Acknowledgement>;

/**
 * Deliberately accepted lint warnings: rule id → the value accepted and why. Errors cannot be acknowledged.
 * @example { max-inputs-below-running-requests: { value: 20, reason: "the guide's max_inputs" } }
 */
export const LintSpec = z.strictObject({
  acknowledge: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a lint rule id'), Acknowledgement)
    .default({}),
});

/** One deployment of GLM-5.1 FP8: the single source every step reads. */
export const Spec = z.strictObject({
  /** Modal app name; also the rollout's identity. @example glm-5.1-production */
  app: AppName,
  /** Modal environment. @default main */
  environment: ObjectName.default('main'),
  /** @default modal */
  platform: z.enum(['modal', 'local']).default('modal'),
  model: ModelSpec,
  gpu: GpuSpec,
  sglang: SglangSpec,
  modal: ModalSpec.default(ModalSpec.parse({})),
  volumes: VolumesSpec.default(VolumesSpec.parse({})),
  health: HealthSpec.default(HealthSpec.parse({})),
  warmup: WarmupSpec.default(WarmupSpec.parse({})),
  keepWarm: KeepWarmSpec.default(KeepWarmSpec.parse({})),
  slo: SloSpec.default(SloSpec.parse({})),
  secrets: SecretsSpec.default(SecretsSpec.parse({})),
  local: LocalSpec.default(LocalSpec.parse({})),
  /** Weights integrity settings; optional, so specs without them render exactly as before. */
  weights: WeightsSpec.optional(),
  /** Acknowledged lint warnings; optional so specs built in code need not carry it. */
  lint: LintSpec.optional(),
  /** What `glm-ops tune` searches (levers, workload, objective, budget); optional, ignored by rollouts. */
  tune: TuneSpec.optional(),
  /** Webhooks told of a rollout's events (started, promoted, failed, rolled back…); optional, none by default. */
  notify: NotifySpec.optional(),
});

/** A resolved spec: every default filled in, JSON-plain, safe to pass to workflows. */
export type Spec = z.output<typeof Spec>;
/** A spec as users write it in YAML. */
export type SpecInput = z.input<typeof Spec>;
