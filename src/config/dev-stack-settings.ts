import * as z from 'zod';

/** Where the embedded dev stack would like to listen on a cold start, and how large a fixture its hub serves. */
export interface DevStackSettings {
  /** GLM_OPS_TEMPORAL_PORT: the dev server's preferred frontend port (a free one when taken, on a cold start). */
  temporalPort: number;
  /** GLM_OPS_TEMPORAL_UI_PORT: the preferred Web UI port. */
  temporalUiPort: number;
  /** GLM_OPS_HUB_PORT: the fixture hub's preferred port. */
  hubPort: number;
  /** GLM_OPS_FIXTURE_SIZE_MB: size of the fixture checkpoint the hub writes once and serves. */
  fixtureSizeMB: number;
}

/** Blank counts as unset (as every glm-ops variable); otherwise a whole number in range, or the variable is named. */
function wholeNumber(min: number, max: number, what: string, fallback: number) {
  return z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined)
    .pipe(
      z
        .string()
        .regex(/^\d+$/, { error: `must be ${what} (${min}-${max})` })
        .transform(Number)
        .refine((n) => n >= min && n <= max, { error: `must be ${what} (${min}-${max})` })
        .optional(),
    )
    .transform((value) => value ?? fallback);
}

/** The dev stack's variables; parsed with the rest of Config by loadConfig. */
export const DevStackEnv = z.object({
  GLM_OPS_TEMPORAL_PORT: wholeNumber(1, 65535, 'a port number', 7233),
  GLM_OPS_TEMPORAL_UI_PORT: wholeNumber(1, 65535, 'a port number', 8233),
  GLM_OPS_HUB_PORT: wholeNumber(1, 65535, 'a port number', 8700),
  GLM_OPS_FIXTURE_SIZE_MB: wholeNumber(1, 1_000_000, 'a size in MB', 200),
});

/** The parsed variables as settings. */
export function devStackSettings(vars: z.output<typeof DevStackEnv>): DevStackSettings {
  return {
    temporalPort: vars.GLM_OPS_TEMPORAL_PORT,
    temporalUiPort: vars.GLM_OPS_TEMPORAL_UI_PORT,
    hubPort: vars.GLM_OPS_HUB_PORT,
    fixtureSizeMB: vars.GLM_OPS_FIXTURE_SIZE_MB,
  };
}
