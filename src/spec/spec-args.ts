import type { Spec } from './schema';
import { flagTableForImage } from './sglang-version';

/** Speculative algorithms that run the EAGLE verifier (NEXTN is SGLang's alias for the MTP head path). */
const EAGLE_ALGORITHMS = new Set(['EAGLE', 'EAGLE3', 'NEXTN']);

/** SGLang's own --watchdog-timeout default in seconds, which applies when the spec does not set it (guide §5). */
export const SGLANG_DEFAULT_WATCHDOG_SECONDS = 300;

/** The value of a flag when it is set (false counts as absent, like the argv builder). */
export function argValue(spec: Spec, flag: string): string | number | true | undefined {
  const value = spec.sglang.args[flag];
  return value === false ? undefined : value;
}

/** A numeric flag's value, or undefined when absent or not a number (the schema rejects wrong types of known flags). */
export function numberArg(spec: Spec, flag: string): number | undefined {
  const value = argValue(spec, flag);
  return typeof value === 'number' ? value : undefined;
}

/** A flag's value as a string, for name-valued flags. */
export function stringArg(spec: Spec, flag: string): string | undefined {
  const value = argValue(spec, flag);
  return value === undefined || value === true ? undefined : String(value);
}

/** Whether speculative decoding with the EAGLE verifier is on. */
export function usesEagle(spec: Spec): boolean {
  const algorithm = stringArg(spec, 'speculative-algorithm');
  return algorithm !== undefined && EAGLE_ALGORITHMS.has(algorithm.toUpperCase());
}

/** Whether the KV cache is FP8 (any fp8_* dtype); SGLang keeps BF16 when the flag is omitted. */
export function usesFp8Kv(spec: Spec): boolean {
  const dtype = stringArg(spec, 'kv-cache-dtype');
  return dtype !== undefined && dtype.toLowerCase().startsWith('fp8');
}

/** The tensor-parallel size the spec sets, under any of SGLang's spellings, with the path it was set at. */
export function tensorParallel(spec: Spec): { size: number; path: string } | undefined {
  for (const flag of ['tp', 'tp-size', 'tensor-parallel-size']) {
    const size = numberArg(spec, flag);
    if (size !== undefined) return { size, path: `sglang.args.${flag}` };
  }
  return undefined;
}

/** The effective watchdog in seconds: the flag, or SGLang's default when omitted. */
export function watchdogSeconds(spec: Spec): { seconds: number; isDefault: boolean } {
  const seconds = numberArg(spec, 'watchdog-timeout');
  return seconds === undefined
    ? { seconds: SGLANG_DEFAULT_WATCHDOG_SECONDS, isDefault: true }
    : { seconds, isDefault: false };
}

/**
 * The sparse-attention (DSA, formerly NSA) backend of one phase, under either spelling: SGLang renamed
 * `--nsa-{decode,prefill}-backend` to `--dsa-...` (0.5.17 keeps the old names as deprecated aliases, 0.5.23 drops
 * them). `flag` is the spelling the spec used, or the one the image's release expects when the spec sets neither.
 */
export function sparseAttentionBackend(
  spec: Spec,
  phase: 'decode' | 'prefill',
): { flag: string; value: string | undefined } {
  for (const flag of [`dsa-${phase}-backend`, `nsa-${phase}-backend`]) {
    const value = stringArg(spec, flag);
    if (value !== undefined) return { flag, value };
  }
  const hasDsa = flagTableForImage(spec.sglang.image).table.byOption.has(`--dsa-${phase}-backend`);
  return { flag: `${hasDsa ? 'dsa' : 'nsa'}-${phase}-backend`, value: undefined };
}
