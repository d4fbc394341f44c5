/** The value kind a known SGLang flag accepts, checked at parse time so lint rules can trust the types. */
export type KnownArgKind = 'fraction' | 'positive-int' | 'non-negative-int' | 'positive-number' | 'string' | 'switch';

/**
 * Flags whose value range glm-ops checks when the spec is parsed (the guide's launch command plus a few it reasons
 * about), before any SGLang release is considered. Whether a flag exists and what type and choices it takes in the
 * image's release is checked against SGLang's own flag table by the sglang-flag-* lint rules.
 */
export const KNOWN_SGLANG_ARGS: Readonly<Record<string, KnownArgKind>> = {
  tp: 'positive-int',
  'tp-size': 'positive-int',
  'tensor-parallel-size': 'positive-int',
  ep: 'positive-int',
  'ep-size': 'positive-int',
  'trust-remote-code': 'switch',
  'attention-backend': 'string',
  'nsa-decode-backend': 'string',
  'nsa-prefill-backend': 'string',
  'dsa-decode-backend': 'string',
  'dsa-prefill-backend': 'string',
  'moe-runner-backend': 'string',
  'enable-flashinfer-allreduce-fusion': 'switch',
  'speculative-algorithm': 'string',
  'speculative-num-steps': 'positive-int',
  'speculative-eagle-topk': 'positive-int',
  'speculative-num-draft-tokens': 'positive-int',
  'mem-fraction-static': 'fraction',
  'max-running-requests': 'positive-int',
  'max-prefill-tokens': 'positive-int',
  'max-total-tokens': 'positive-int',
  'context-length': 'positive-int',
  'chunked-prefill-size': 'positive-int',
  'watchdog-timeout': 'positive-number',
  'enable-metrics': 'switch',
  'kv-cache-dtype': 'string',
  'tool-call-parser': 'string',
  'reasoning-parser': 'string',
  'disable-radix-cache': 'switch',
};

/** Returns why a known flag's value has the wrong type, or undefined when it fits (or the flag is unknown). */
export function describeKnownArgTypeProblem(flag: string, value: unknown): string | undefined {
  const kind = KNOWN_SGLANG_ARGS[flag];
  if (!kind || value === false) return undefined;
  switch (kind) {
    case 'switch':
      return value === true
        ? undefined
        : `"${flag}" is a bare switch: write true (or false to omit it), got ${JSON.stringify(value)}`;
    case 'string':
      return typeof value === 'string' ? undefined : `"${flag}" takes a name, got ${JSON.stringify(value)}`;
    case 'fraction':
      return typeof value === 'number' && value > 0 && value < 1
        ? undefined
        : `"${flag}" must be a number between 0 and 1 (e.g. 0.88), got ${JSON.stringify(value)}`;
    case 'positive-int':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100_000_000
        ? undefined
        : `"${flag}" must be a positive integer, got ${JSON.stringify(value)}`;
    case 'non-negative-int':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0
        ? undefined
        : `"${flag}" must be a non-negative integer, got ${JSON.stringify(value)}`;
    case 'positive-number':
      return typeof value === 'number' && value > 0 && value <= 10_000_000
        ? undefined
        : `"${flag}" must be a positive number of seconds, got ${JSON.stringify(value)}`;
  }
}
