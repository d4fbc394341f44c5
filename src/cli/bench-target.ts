import type { Config } from '../config/config';
import { secretSource } from '../config/secrets';
import { platformsFor } from '../platform-wiring';
import { AppName } from '../spec/schema';
import { taskQueueFor } from '../shared/task-queue';

/** Where the bench sends its load: the endpoint, its key (never printed), and the served model when known. */
export interface BenchTarget {
  baseUrl: string;
  apiKey?: string;
  model?: string;
  /** How the target was found, for the first line of output (no secret in it). */
  description: string;
}

/** A TARGET that names no app the platform serves, or a key variable that is not set. */
export class BenchTargetError extends Error {
  override readonly name = 'BenchTargetError';
}

/**
 * TARGET is a URL (the key then comes from the environment variable `--api-key-env` names), or an app name: its
 * current deployment on the platform gives the endpoint, the served model name and the secret holding the API key,
 * which is read the way the worker's smoke tests read it (GLM_OPS_SECRET_<NAME>, else the local secrets file).
 */
export async function resolveBenchTarget(
  target: string,
  options: { apiKeyEnv?: string; platform: 'local' | 'modal' },
  config: Config,
): Promise<BenchTarget> {
  if (/^https?:\/\//i.test(target)) {
    let apiKey: string | undefined;
    if (options.apiKeyEnv !== undefined) {
      apiKey = config.env[options.apiKeyEnv]?.trim() || undefined;
      if (!apiKey) throw new BenchTargetError(`--api-key-env ${options.apiKeyEnv}: that variable is not set`);
    }
    return { baseUrl: target, apiKey, description: `${target}${apiKey ? ` (key from $${options.apiKeyEnv})` : ''}` };
  }
  if (!AppName.safeParse(target).success) {
    throw new BenchTargetError(`TARGET "${target}" is neither a URL (http://…) nor an app name`);
  }
  const platform = Object.values(platformsFor(taskQueueFor(options.platform), config))[0]!;
  const deployment = await platform.currentDeployment(target);
  if (!deployment) {
    throw new BenchTargetError(
      `TARGET "${target}": no app of that name is deployed on the ${options.platform} platform (roll it out first, or pass a URL)`,
    );
  }
  const { url } = await platform.endpoint(target);
  const secretName = deployment.spec.secrets.apiKey;
  return {
    baseUrl: url,
    apiKey: secretSource(config).resolve(secretName),
    model: deployment.spec.model.servedName,
    description: `${target} v${deployment.version} on ${options.platform} at ${url} (key from secret ${secretName})`,
  };
}
