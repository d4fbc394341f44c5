import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { runningService } from '../devstack/background-service';

/** Where the Temporal connection settings came from. */
export type ConnectionSource = 'envconfig' | 'embedded';

/** Connection options for client and worker, plus the namespace and where they came from. */
export interface TemporalConnectConfig {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
  source: ConnectionSource;
  /** The embedded stack's Web UI, when that is what we connect to. */
  uiUrl?: string;
}

/** True when the user configured Temporal through its standard env vars or a config file. */
export function hasExplicitTemporalConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  if (
    ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_API_KEY'].some((k) => env[k]?.trim())
  ) {
    return true;
  }
  const configHome = env.XDG_CONFIG_HOME?.trim() || path.join(os.homedir(), '.config');
  return fs.existsSync(path.join(configHome, 'temporalio', 'temporal.toml'));
}

/**
 * Temporal's standard environment configuration (profiles, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS files, API key)
 * when the user set any of it; otherwise the embedded dev stack started by `glm-ops dev up`.
 */
export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConnectConfig {
  if (hasExplicitTemporalConfig(env)) {
    const config = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
    return {
      connectionOptions: config.connectionOptions,
      namespace: config.namespace ?? 'default',
      source: 'envconfig',
    };
  }
  const embedded = runningService('temporal', env);
  const address = embedded ? String(embedded.info.address) : '127.0.0.1:7233';
  const uiUrl = embedded?.info.uiUrl ? String(embedded.info.uiUrl) : undefined;
  return { connectionOptions: { address }, namespace: 'default', source: 'embedded', uiUrl };
}
