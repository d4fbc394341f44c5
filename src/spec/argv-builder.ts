import { assertSafeArgValue, assertSafeFlagName, UnsafeArgError } from './arg-safety';
import type { Spec } from './schema';

export { assertSafeArgValue, assertSafeFlagName, UnsafeArgError } from './arg-safety';

/** The command the argv follows: SGLang's OpenAI-compatible server. */
export const SGLANG_LAUNCH_MODULE = ['python3', '-m', 'sglang.launch_server'] as const;

/** Where the weights volume is mounted in serving containers (guide: VOLUME_MOUNTS). */
export const MODEL_CACHE_MOUNT = '/model-cache';
/** Where the DeepGEMM cache volume is mounted. */
export const DEEPGEMM_CACHE_MOUNT = '/dg-cache';
/** The port SGLang listens on and Modal's web_server forwards to. */
export const SGLANG_PORT = 8000;

/** Run-time values that never live in the spec. */
export interface ArgvOverrides {
  modelPath?: string;
  host?: string;
  port?: number;
  /** Appended last as `--api-key`; read from the environment at run time, never stored. */
  apiKey?: string;
}

/** The last path segment of the repo: zai-org/GLM-5.1-FP8 → GLM-5.1-FP8. */
export function repoNamePart(repo: string): string {
  return repo.split('/').pop() ?? repo;
}

/** The default model path inside serving containers: /model-cache/<repo name part>. */
export function defaultModelPath(spec: Spec): string {
  return `${MODEL_CACHE_MOUNT}/${repoNamePart(spec.model.repo)}`;
}

const TP_ALIASES = ['tp-size', 'tensor-parallel-size'];

/**
 * Renders the argv after `python3 -m sglang.launch_server`, as the guide's `_build_sglang_cmd` does:
 * --model-path, --served-model-name, --tp (from args.tp, else gpu.count), --host, --port, then every other flag of
 * `sglang.args` in the order written (true = bare switch, false = omitted), and `--api-key` last when given.
 * Every name and value is re-checked, so a spec built in code cannot smuggle shell syntax either.
 */
export function buildSglangArgv(spec: Spec, overrides: ArgvOverrides = {}): string[] {
  const args = spec.sglang.args;
  const tpValue = args.tp;
  const hasTpAlias = TP_ALIASES.some((alias) => args[alias] !== undefined && args[alias] !== false);
  const modelPath = overrides.modelPath ?? defaultModelPath(spec);
  const host = overrides.host ?? '0.0.0.0';
  const port = overrides.port ?? SGLANG_PORT;
  assertSafeArgValue(modelPath, 'modelPath');
  assertSafeArgValue(host, 'host');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UnsafeArgError('port', `port ${port} must be an integer in 1–65535`);
  assertSafeArgValue(spec.model.servedName, 'model.servedName');

  const argv = ['--model-path', modelPath, '--served-model-name', spec.model.servedName];
  if (tpValue !== false && !hasTpAlias) {
    const tp = tpValue === undefined || tpValue === true ? spec.gpu.count : tpValue;
    assertSafeArgValue(tp, 'sglang.args.tp');
    argv.push('--tp', String(tp));
  }
  argv.push('--host', host, '--port', String(port));
  for (const [flag, value] of Object.entries(args)) {
    if (flag === 'tp') continue;
    assertSafeFlagName(flag);
    assertSafeArgValue(value, `sglang.args.${flag}`);
    if (value === false) continue;
    argv.push(`--${flag}`);
    if (value !== true) argv.push(String(value));
  }
  if (overrides.apiKey !== undefined && overrides.apiKey !== '') {
    if (/\s/.test(overrides.apiKey) || overrides.apiKey.includes('\0') || overrides.apiKey.startsWith('-')) {
      // The key itself must never appear in the error.
      throw new UnsafeArgError('apiKey', 'the API key contains whitespace or starts with "-": check the secret value');
    }
    argv.push('--api-key', overrides.apiKey);
  }
  return argv;
}
