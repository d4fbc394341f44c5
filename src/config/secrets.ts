import * as fs from 'node:fs';
import * as path from 'node:path';
import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';
import type { Config } from './config';

/** The environment variable that may hold a secret: `glm-api-key` → `GLM_OPS_SECRET_GLM_API_KEY`. */
export function secretEnvVar(name: string): string {
  return `GLM_OPS_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Thrown when a secret named in a spec has no value on this machine; the message never holds a value. */
export class SecretMissingError extends DomainError {
  readonly errorType = ErrorType.PlatformUnavailable;
  constructor(name: string, file: string) {
    super(`secret "${name}" is not set: export ${secretEnvVar(name)} or write it to ${file}`);
  }
}

/**
 * Where this machine's secrets are found: `GLM_OPS_SECRET_<NAME>` in the environment, else the file
 * `<stateDir>/secrets/<name>` (mode 600, the local stand-in for a Modal Secret). Values stay in the caller's memory.
 */
export interface SecretSource {
  /** The secret's value; throws SecretMissingError (naming the variable and the file, never a value) when unset. */
  resolve: (name: string) => string;
  /** The file the secret is read from when its variable is unset. */
  fileOf: (name: string) => string;
  /** Creates a random secret file when the secret has no value yet (the local demo's API key). */
  ensureLocal: (name: string, generate: () => string) => void;
}

/** The secrets of the settings' environment and state folder; build it once at the entry point. */
export function secretSource(config: Pick<Config, 'env' | 'stateDir'>): SecretSource {
  const fileOf = (name: string): string => path.join(config.stateDir, 'secrets', name);
  const fromFile = (name: string): string | undefined => {
    const file = fileOf(name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined;
  };
  // GLM_OPS_SECRET_* is read at each call: the environment is the secret's interface, as for a Modal Secret.
  const fromEnv = (name: string): string | undefined => config.env[secretEnvVar(name)]?.trim() || undefined;
  return {
    fileOf,
    resolve(name) {
      const value = fromEnv(name) ?? fromFile(name);
      if (value === undefined) throw new SecretMissingError(name, fileOf(name));
      return value;
    },
    ensureLocal(name, generate) {
      if (fromEnv(name) !== undefined || fromFile(name) !== undefined) return;
      const file = fileOf(name);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, generate(), { mode: 0o600 });
    },
  };
}
