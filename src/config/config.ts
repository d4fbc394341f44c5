import * as z from 'zod';
import { DevStackEnv, devStackSettings, type DevStackSettings } from './dev-stack-settings';
import { projectRoot, stateDir } from './paths';

/** A variable that may be unset; `VAR=` (empty or blank) counts as unset, as the rest of glm-ops always read it. */
const optionalText = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

/** The variables glm-ops reads for its own settings (Temporal's TEMPORAL_* are its envconfig's business). */
const ConfigEnv = z
  .object({
    GLM_OPS_HOME: optionalText,
    GLM_OPS_HUB_TOKEN: optionalText,
    GLM_OPS_TASK_QUEUE: optionalText,
    HF_ENDPOINT: optionalText.refine((value) => value === undefined || /^https?:\/\/\S+$/.test(value), {
      error: 'must be an http(s) URL of a Hugging Face compatible hub, e.g. https://huggingface.co',
    }),
    HF_TOKEN: optionalText,
  })
  .extend(DevStackEnv.shape);

/** The hub the local platform downloads from, as the environment names it. */
export interface HubSettings {
  /** HF_ENDPOINT: the user's own hub; unset means the one glm-ops runs (or the fallback). */
  endpoint?: string;
  /** HF_TOKEN; never logged. */
  token?: string;
}

/**
 * The process's settings, read and checked once by an entry point (the CLI, the worker, the platform daemon) and
 * passed down, so the layers below take values instead of each reading the environment again.
 */
export interface Config {
  /**
   * The environment the settings came from. Passed on unchanged where the environment itself is the interface:
   * child processes (engines, the daemon, `modal`), Temporal's envconfig, and secrets (GLM_OPS_SECRET_*).
   */
  readonly env: NodeJS.ProcessEnv;
  /** The package root (the folder holding package.json). */
  readonly projectRoot: string;
  /** GLM_OPS_HOME, else `<root>/.glm-ops`: dev server, platform state, volumes, secrets. */
  readonly stateDir: string;
  /** GLM_OPS_TASK_QUEUE: the queue a worker polls and the CLI starts on, when it overrides the platform's. */
  readonly taskQueue?: string;
  readonly hub: HubSettings;
  /** GLM_OPS_HUB_TOKEN: the bearer token `glm-ops hub serve` requires of its clients; never logged. */
  readonly servedHubToken?: string;
  /** The embedded dev stack's preferred ports and fixture size (GLM_OPS_TEMPORAL_PORT, …). */
  readonly devStack: DevStackSettings;
}

/** A setting of the environment that glm-ops cannot use; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads glm-ops' settings from the environment; call it once per process, at the entry point. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`environment: ${z.prettifyError(parsed.error)}`);
  const vars = parsed.data;
  return {
    env,
    projectRoot: projectRoot(),
    stateDir: stateDir(env),
    ...(vars.GLM_OPS_TASK_QUEUE ? { taskQueue: vars.GLM_OPS_TASK_QUEUE } : {}),
    ...(vars.GLM_OPS_HUB_TOKEN ? { servedHubToken: vars.GLM_OPS_HUB_TOKEN } : {}),
    hub: {
      ...(vars.HF_ENDPOINT ? { endpoint: vars.HF_ENDPOINT } : {}),
      ...(vars.HF_TOKEN ? { token: vars.HF_TOKEN } : {}),
    },
    devStack: devStackSettings(vars),
  };
}
