/** The subset of SGLang's server arguments the emulator acts on; every other flag is accepted and logged. */
export interface EngineArgs {
  modelPath: string;
  servedModelName: string;
  host: string;
  port: number;
  tp: number;
  ep: number;
  apiKey?: string;
  trustRemoteCode: boolean;
  attentionBackend?: string;
  nsaDecodeBackend?: string;
  nsaPrefillBackend?: string;
  moeRunnerBackend?: string;
  enableFlashinferAllreduceFusion: boolean;
  speculativeAlgorithm?: string;
  speculativeNumSteps?: number;
  speculativeEagleTopk?: number;
  speculativeNumDraftTokens?: number;
  memFractionStatic: number;
  maxRunningRequests: number;
  maxPrefillTokens: number;
  /** SGLang's KV pool size in tokens; the guide reads it as the per-request budget, and so does the emulator. */
  maxTotalTokens: number;
  watchdogTimeoutS: number;
  enableMetrics: boolean;
  toolCallParser?: string;
  reasoningParser?: string;
  kvCacheDtype: string;
}

/** An argv the emulator cannot start with (as argparse would reject it). */
export class EngineArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineArgsError';
  }
}

type Kind = 'string' | 'int' | 'float' | 'switch';

const FLAGS: Record<string, { key: keyof EngineArgs; kind: Kind }> = {
  '--model-path': { key: 'modelPath', kind: 'string' },
  '--served-model-name': { key: 'servedModelName', kind: 'string' },
  '--host': { key: 'host', kind: 'string' },
  '--port': { key: 'port', kind: 'int' },
  '--tp': { key: 'tp', kind: 'int' },
  '--tp-size': { key: 'tp', kind: 'int' },
  '--ep': { key: 'ep', kind: 'int' },
  '--ep-size': { key: 'ep', kind: 'int' },
  '--api-key': { key: 'apiKey', kind: 'string' },
  '--trust-remote-code': { key: 'trustRemoteCode', kind: 'switch' },
  '--attention-backend': { key: 'attentionBackend', kind: 'string' },
  '--nsa-decode-backend': { key: 'nsaDecodeBackend', kind: 'string' },
  '--nsa-prefill-backend': { key: 'nsaPrefillBackend', kind: 'string' },
  '--moe-runner-backend': { key: 'moeRunnerBackend', kind: 'string' },
  '--enable-flashinfer-allreduce-fusion': { key: 'enableFlashinferAllreduceFusion', kind: 'switch' },
  '--speculative-algorithm': { key: 'speculativeAlgorithm', kind: 'string' },
  '--speculative-num-steps': { key: 'speculativeNumSteps', kind: 'int' },
  '--speculative-eagle-topk': { key: 'speculativeEagleTopk', kind: 'int' },
  '--speculative-num-draft-tokens': { key: 'speculativeNumDraftTokens', kind: 'int' },
  '--mem-fraction-static': { key: 'memFractionStatic', kind: 'float' },
  '--max-running-requests': { key: 'maxRunningRequests', kind: 'int' },
  '--max-prefill-tokens': { key: 'maxPrefillTokens', kind: 'int' },
  '--max-total-tokens': { key: 'maxTotalTokens', kind: 'int' },
  '--watchdog-timeout': { key: 'watchdogTimeoutS', kind: 'float' },
  '--enable-metrics': { key: 'enableMetrics', kind: 'switch' },
  '--tool-call-parser': { key: 'toolCallParser', kind: 'string' },
  '--reasoning-parser': { key: 'reasoningParser', kind: 'string' },
  '--kv-cache-dtype': { key: 'kvCacheDtype', kind: 'string' },
};

/** The result of parsing: the arguments, plus flags the emulator does not model (logged, never fatal). */
export interface ParsedEngineArgv {
  args: EngineArgs;
  unknownFlags: string[];
}

/** Parses an SGLang launch argv (`--flag value`, `--flag=value`, bare switches) the way argparse would. */
export function parseEngineArgv(argv: readonly string[]): ParsedEngineArgv {
  const values: Record<string, unknown> = {};
  const unknownFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('--')) throw new EngineArgsError(`error: unrecognized argument: ${token}`);
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    const flag = FLAGS[name];
    if (!flag) {
      // Unknown flags keep their value (if any) so the next flag is not mistaken for it.
      const next = argv[i + 1];
      if (inline === undefined && next !== undefined && !next.startsWith('--')) i++;
      unknownFlags.push(name);
      continue;
    }
    if (flag.kind === 'switch') {
      values[flag.key] = inline === undefined ? true : !/^(false|0|no)$/i.test(inline);
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) {
      throw new EngineArgsError(`error: argument ${name}: expected one argument`);
    }
    values[flag.key] = convert(name, flag.kind, raw);
  }
  if (typeof values.modelPath !== 'string') {
    throw new EngineArgsError('error: the following arguments are required: --model-path');
  }
  const modelPath = values.modelPath;
  const args: EngineArgs = {
    servedModelName: modelPath,
    host: '127.0.0.1',
    port: 30000,
    tp: 1,
    ep: 1,
    trustRemoteCode: false,
    enableFlashinferAllreduceFusion: false,
    memFractionStatic: 0.88,
    maxRunningRequests: 48,
    maxPrefillTokens: 16384,
    maxTotalTokens: 202752,
    watchdogTimeoutS: 300,
    enableMetrics: false,
    kvCacheDtype: 'auto',
    ...(values as Partial<EngineArgs>),
    modelPath,
  };
  checkRange('--port', args.port, 0, 65535);
  checkRange('--mem-fraction-static', args.memFractionStatic, 0.01, 1);
  checkRange('--max-running-requests', args.maxRunningRequests, 1, 1_000_000);
  checkRange('--max-total-tokens', args.maxTotalTokens, 1, 100_000_000);
  checkRange('--watchdog-timeout', args.watchdogTimeoutS, 0.001, 10_000_000);
  return { args, unknownFlags };
}

function convert(name: string, kind: Kind, raw: string): string | number {
  if (kind === 'string') return raw;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (kind === 'int' && !Number.isInteger(value))) {
    throw new EngineArgsError(`error: argument ${name}: invalid ${kind} value: '${raw}'`);
  }
  return value;
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (value < min || value > max) {
    throw new EngineArgsError(`error: argument ${name}: ${value} is out of range [${min}, ${max}]`);
  }
}

/** True when the argv turns on EAGLE-style speculative decoding (EAGLE, EAGLE3, NEXTN all use the MTP head). */
export function isSpeculative(args: EngineArgs): boolean {
  return /^(EAGLE|EAGLE3|NEXTN)$/i.test(args.speculativeAlgorithm ?? '');
}

/** The argv rendered for the `server_args=` log line, with the API key masked. */
export function describeArgsForLog(args: EngineArgs): string {
  const shown = { ...args, apiKey: args.apiKey === undefined ? undefined : '***' };
  return Object.entries(shown)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}
