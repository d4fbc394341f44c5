import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Where the Temporal connection settings came from. */
export type ConnectionSource = 'envconfig' | 'embedded';

/** The SDK's address when a profile or the environment names none. */
const DEFAULT_ADDRESS = 'localhost:7233';

/** Where the embedded dev stack's Temporal listens, as `glm-ops dev up` recorded it. */
export interface EmbeddedTemporal {
  address: string;
  uiUrl?: string;
}

/** Connection options for client and worker, plus the namespace and where they came from. */
export interface TemporalConnectConfig {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
  source: ConnectionSource;
  /** Which variables or profile the settings came from, for messages (`TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE`). */
  origin: string;
  /** The embedded stack's Web UI, when that is what we connect to. */
  uiUrl?: string;
}

/** Thrown when the user's Temporal settings cannot be read (a missing file or profile); names the setting. */
export class TemporalConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalConfigError';
  }
}

const CONNECTION_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'];

/** The profile file envconfig reads when TEMPORAL_CONFIG_FILE is unset (its own per-OS rule). */
function defaultConfigFile(env: NodeJS.ProcessEnv): string {
  const home = env.HOME?.trim() || os.homedir();
  if (process.platform === 'win32') return path.join(env.APPDATA?.trim() || home, 'temporalio', 'temporal.toml');
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml');
  const xdg = env.XDG_CONFIG_HOME?.trim();
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.config'), 'temporalio', 'temporal.toml');
}

/** True when the user configured Temporal through its standard env vars or a config file. */
export function hasExplicitTemporalConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  if ([...CONNECTION_VARS, 'TEMPORAL_API_KEY'].some((k) => env[k]?.trim())) return true;
  return fs.existsSync(defaultConfigFile(env));
}

/** The profile file and the variables the settings came from, named for messages; never a value of a secret. */
function describeOrigin(env: NodeJS.ProcessEnv): string {
  const parts: string[] = [];
  const file = env.TEMPORAL_CONFIG_FILE?.trim() || defaultConfigFile(env);
  if (fs.existsSync(file)) parts.push(`profile "${env.TEMPORAL_PROFILE?.trim() || 'default'}" of ${file}`);
  const vars = Object.keys(env)
    .filter((k) => k.startsWith('TEMPORAL_') && !['TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'].includes(k))
    .filter(
      (k) =>
        env[k]?.trim() && (k === 'TEMPORAL_API_KEY' || k.startsWith('TEMPORAL_TLS') || CONNECTION_VARS.includes(k)),
    )
    .sort();
  parts.push(...vars);
  return parts.join(', ') || 'defaults';
}

/**
 * Temporal's standard environment configuration (profiles, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS files, API key)
 * when the user set any of it; otherwise the embedded dev stack started by `glm-ops dev up`, which the caller looks up
 * (devstack/ sits above config/, so config/ is told where it runs instead of reading the dev stack's records).
 */
export function loadTemporalConfig(
  env: NodeJS.ProcessEnv,
  embeddedStack: () => EmbeddedTemporal | undefined,
): TemporalConnectConfig {
  if (hasExplicitTemporalConfig(env)) {
    const file = env.TEMPORAL_CONFIG_FILE?.trim();
    // envconfig treats a missing file as an empty one, which would silently connect somewhere else.
    if (file && !fs.existsSync(file)) throw new TemporalConfigError(`TEMPORAL_CONFIG_FILE ${file} does not exist`);
    let config: ReturnType<typeof loadClientConnectConfig>;
    try {
      config = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
    } catch (err) {
      const where = file ? ` (TEMPORAL_CONFIG_FILE ${file})` : '';
      throw new TemporalConfigError(`Temporal settings${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return {
      connectionOptions: { ...config.connectionOptions, address: config.connectionOptions.address ?? DEFAULT_ADDRESS },
      namespace: config.namespace ?? 'default',
      source: 'envconfig',
      origin: describeOrigin(env),
    };
  }
  const embedded = embeddedStack();
  return {
    connectionOptions: { address: embedded?.address ?? '127.0.0.1:7233' },
    namespace: 'default',
    source: 'embedded',
    origin: 'the embedded dev stack',
    uiUrl: embedded?.uiUrl,
  };
}

/** TLS as a word for messages: off, on, or on with a client certificate (mTLS). */
export function describeTls(options: NativeConnectionOptions): string {
  const { tls } = options;
  if (!tls) return 'TLS off';
  if (tls === true) return 'TLS on';
  return tls.clientCertPair ? 'TLS on (client certificate)' : 'TLS on';
}

/** `Temporal at ADDRESS, namespace NS, TLS off, API key not set`: where a client or worker connects, no secret. */
export function describeConnection(config: TemporalConnectConfig): string {
  const apiKey = config.connectionOptions.apiKey ? 'API key set' : 'API key not set';
  return `Temporal at ${config.connectionOptions.address}, namespace ${config.namespace}, ${describeTls(config.connectionOptions)}, ${apiKey}`;
}
