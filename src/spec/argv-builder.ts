import { assertSafeArgValue, assertSafeFlagName, UnsafeArgError } from './arg-safety';
import type { Spec } from './schema';
import type { SglangFlagTable } from './sglang-flags';
import { canonicalName, deprecatedChoice, deprecatedReplacementFlag, resolveSpecFlag } from './spec-flags';
import { flagTableForImage } from './sglang-version';

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

/**
 * The spelling a spec key renders as for this release: glm-ops' `tp` → `--tp-size`; an abbreviation → the full name;
 * a deprecated alias SGLang forwards to another flag → that flag (`--nsa-decode-backend` → `--dsa-decode-backend` on
 * 0.5.17). Exact names render as written, and keys the release does not know pass through unchanged, so SGLang
 * itself (or the emulator, with the same table) rejects them; `spec check` reports them first.
 */
function canonicalFlag(table: SglangFlagTable, key: string): string {
  const resolved = resolveSpecFlag(table, key);
  if (resolved.kind !== 'flag') return key;
  const forwarded = deprecatedReplacementFlag(table, resolved.flag);
  if (forwarded) return canonicalName(forwarded);
  return resolved.option.replace(/^--/, '');
}

/** A value SGLang's source marks as a deprecated alias renders as its replacement (`attention-backend nsa` → `dsa`). */
function canonicalValue(table: SglangFlagTable, key: string, value: string | number): string {
  const resolved = resolveSpecFlag(table, key);
  if (resolved.kind !== 'flag') return String(value);
  return deprecatedChoice(resolved.flag, value)?.replacement ?? String(value);
}

/** Keys that set the tensor-parallel size, in any spelling the table knows. */
function setsTensorParallel(table: SglangFlagTable, key: string): boolean {
  const resolved = resolveSpecFlag(table, key);
  return resolved.kind === 'flag' && resolved.flag === table.byOption.get('--tp-size');
}

/**
 * Renders the argv after `python3 -m sglang.launch_server`, as the guide's `_build_sglang_cmd` does:
 * --model-path, --served-model-name, --tp-size (from args.tp, else gpu.count), --host, --port, then every other flag
 * of `sglang.args` in the order written (true = bare switch, false = omitted), and `--api-key` last when given.
 * Spellings are the canonical ones of the image's SGLang release (its flag table): the guide writes `--tp`, which
 * argparse reads only as an abbreviation of `--tp-size`, so `--tp-size` is rendered.
 * Every name and value is re-checked, so a spec built in code cannot smuggle shell syntax either.
 */
export function buildSglangArgv(spec: Spec, overrides: ArgvOverrides = {}): string[] {
  const { table } = flagTableForImage(spec.sglang.image);
  const args = spec.sglang.args;
  const tpValue = args.tp;
  const hasTpAlias = Object.entries(args).some(
    ([key, value]) => key !== 'tp' && value !== false && setsTensorParallel(table, key),
  );
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
    argv.push(table.byOption.has('--tp-size') ? '--tp-size' : '--tp', String(tp));
  }
  argv.push('--host', host, '--port', String(port));
  for (const [flag, value] of Object.entries(args)) {
    if (flag === 'tp') continue;
    assertSafeFlagName(flag);
    assertSafeArgValue(value, `sglang.args.${flag}`);
    if (value === false) continue;
    argv.push(`--${canonicalFlag(table, flag)}`);
    if (value !== true) argv.push(canonicalValue(table, flag, value));
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
