import * as fs from 'node:fs';
import * as path from 'node:path';
import { DomainError } from '../shared/domain-error';
import { ErrorType } from '../shared/errors';
import { stateDir } from './paths';

/** The environment variable that may hold a secret: `glm-api-key` → `GLM_OPS_SECRET_GLM_API_KEY`. */
export function secretEnvVar(name: string): string {
  return `GLM_OPS_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Where the local platform keeps a secret's value on disk (mode 600), like a Modal Secret. */
export function secretFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'secrets', name);
}

/** Thrown when a secret named in a spec has no value on this machine; the message never holds a value. */
export class SecretMissingError extends DomainError {
  readonly errorType = ErrorType.PlatformUnavailable;
  constructor(name: string, env: NodeJS.ProcessEnv) {
    super(`secret "${name}" is not set: export ${secretEnvVar(name)} or write it to ${secretFile(name, env)}`);
  }
}

/** Resolves a secret by name from the environment, then from the state folder. Values stay in the caller's memory. */
export function resolveSecret(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[secretEnvVar(name)]?.trim();
  if (fromEnv) return fromEnv;
  const file = secretFile(name, env);
  if (fs.existsSync(file)) {
    const value = fs.readFileSync(file, 'utf8').trim();
    if (value) return value;
  }
  throw new SecretMissingError(name, env);
}

/** Creates a random secret in the state folder when none exists (the local demo's API key). */
export function ensureLocalSecret(name: string, generate: () => string, env: NodeJS.ProcessEnv = process.env): void {
  if (env[secretEnvVar(name)]?.trim()) return;
  const file = secretFile(name, env);
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim()) return;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, generate(), { mode: 0o600 });
}
