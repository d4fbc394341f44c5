/**
 * Safety checks for SGLang flags and values. The argv is always an array handed to exec, never a shell string, but
 * a value that looks like a second flag, splits on whitespace or carries shell syntax is still refused: it would be a
 * different command the day someone pastes the argv into a shell, and SGLang's own flags never need such values.
 */

/** Flag names as SGLang spells them, without leading dashes. */
export const FLAG_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** Characters a string value may hold: paths, dotted versions, backend names, `key=value`, `a,b` lists. */
const SAFE_VALUE_PATTERN = /^[A-Za-z0-9_.:/=,+@%-]+$/;

/** Flags glm-ops sets itself; putting them in `sglang.args` would duplicate or leak them. */
export const RESERVED_ARG_KEYS: Readonly<Record<string, string>> = {
  'model-path': 'glm-ops sets --model-path from the weights volume mount (/model-cache/<repo name>)',
  'served-model-name': 'set model.servedName instead',
  host: 'glm-ops binds SGLang to 0.0.0.0 inside the container',
  port: 'glm-ops serves on port 8000 (the Modal web_server port)',
  'api-key': 'never put a key in the spec: name a secret in secrets.apiKey; the key is appended at run time',
};

/** A flag name or value that cannot go into the argv. */
export class UnsafeArgError extends Error {
  constructor(
    /** Spec path of the offending flag, such as `sglang.args.tool-call-parser`. */
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'UnsafeArgError';
  }
}

/** Returns why a flag name is unusable, or undefined when it is fine. */
export function describeUnsafeFlagName(name: string): string | undefined {
  if (name.startsWith('-'))
    return `flag "${name}" must be written without leading dashes (SGLang's spelling, e.g. "mem-fraction-static")`;
  if (!FLAG_NAME_PATTERN.test(name)) {
    return `flag name ${JSON.stringify(name)} must match ${FLAG_NAME_PATTERN.source} (lower-case, digits, dashes)`;
  }
  const reserved = RESERVED_ARG_KEYS[name];
  if (reserved) return `flag "${name}" is reserved: ${reserved}`;
  return undefined;
}

/** Returns why a flag value is unusable, or undefined when it is fine. */
export function describeUnsafeArgValue(value: unknown): string | undefined {
  if (typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : `value ${String(value)} is not a finite number`;
  }
  if (typeof value !== 'string')
    return `value must be a string, number or boolean, got ${value === null ? 'null' : typeof value}`;
  if (value.length === 0) return 'value is empty: use true for a bare switch or remove the flag';
  if (value.length > 1024) return `value is ${value.length} characters long (limit 1024)`;
  if (/[\r\n]/.test(value)) return 'value contains a newline';
  if (/\s/.test(value))
    return `value ${JSON.stringify(value)} contains whitespace: one flag takes one value, the argv is never split`;
  if (value.startsWith('-')) return `value ${JSON.stringify(value)} starts with "-" and would read as another flag`;
  if (!SAFE_VALUE_PATTERN.test(value)) {
    return `value ${JSON.stringify(value)} contains shell metacharacters or other characters outside [A-Za-z0-9_.:/=,+@%-]`;
  }
  return undefined;
}

/** Throws UnsafeArgError when a value cannot be one argv element (whitespace, newline, shell syntax, leading dash). */
export function assertSafeArgValue(value: unknown, path = 'sglang.args'): void {
  const problem = describeUnsafeArgValue(value);
  if (problem) throw new UnsafeArgError(path, problem);
}

/** Throws UnsafeArgError when a flag name is malformed or reserved for glm-ops. */
export function assertSafeFlagName(name: string, path = `sglang.args.${name}`): void {
  const problem = describeUnsafeFlagName(name);
  if (problem) throw new UnsafeArgError(path, problem);
}
