/**
 * GLM-5.1's attention shapes, from its config.json (zai-org/GLM-5.1-FP8, `GlmMoeDsaForCausalLM`, the same shapes as
 * GLM-5): 78 layers of DeepSeek-V3.2-style MLA (`kv_lora_rank` 512, `qk_rope_head_dim` 64) with the DSA indexer
 * (`index_head_dim` 128), plus one MTP layer the EAGLE draft runs. The emulator's fixtures carry no such fields, so
 * these are the model's published values, not read from the served folder.
 */
export const GLM51_ATTENTION = {
  layers: 78,
  kvLoraRank: 512,
  qkRopeHeadDim: 64,
  indexHeadDim: 128,
  nextnLayers: 1,
} as const;

/** SGLang's NSA indexer keys: FP8 bytes with one 4-byte scale per 128 (NSATokenToKVPool.quant_block_size). */
const INDEXER_QUANT_BLOCK = 128;

/** The free memory at `Load weight begin` as a share of the card's: CUDA context and NCCL take the rest. */
export const PRE_LOAD_AVAILABLE_SHARE = 0.97;

/**
 * KV bytes one token takes on each GPU, as SGLang's `get_cell_size_per_token` computes it for an MLA model with NSA:
 * (kv_lora_rank + qk_rope_head_dim) × element size + the indexer's index_head_dim + index_head_dim / 128 × 4 bytes,
 * per layer. BF16 (the guide's "omit --kv-cache-dtype", §3): 1,152 + 132 = 1,284 bytes a layer, 100,152 for 78
 * layers. MLA keeps the one latent per token on every tensor-parallel rank, so the pool's token count is per GPU,
 * not divided by tp. With EAGLE the draft's MTP layer keeps a pool of the same token count (+1 layer): an estimate of
 * how SGLang splits the budget between the two pools (it sizes the draft's from what the target left).
 */
export function kvBytesPerToken(kvCacheDtype: string, isSpeculative: boolean): number {
  const a = GLM51_ATTENTION;
  const elementBytes = kvCacheDtype.startsWith('fp8') ? 1 : 2;
  const latentBytes = (a.kvLoraRank + a.qkRopeHeadDim) * elementBytes;
  const indexerBytes = a.indexHeadDim + (a.indexHeadDim / INDEXER_QUANT_BLOCK) * 4;
  return (latentBytes + indexerBytes) * (a.layers + (isSpeculative ? a.nextnLayers : 0));
}

/** What sizes the KV pool of one engine (one container). */
export interface KvPoolInputs {
  /** One GPU's memory in GiB (the emulator's catalog figure). */
  vramGiB: number;
  /** The weights each GPU holds, GiB (the checkpoint over `--tp`). */
  weightsPerGpuGiB: number;
  memFractionStatic: number;
  /** `--max-total-tokens` when given: SGLang caps the profiled pool at it. */
  maxTotalTokens?: number | undefined;
  bytesPerToken: number;
}

/** The pool SGLang allocates, or why it cannot. */
export type KvPoolSize =
  | {
      ok: true;
      /** `max_total_num_tokens`: the pool in tokens. */
      tokens: number;
      /** What memory alone allows (SGLang's profiled value). */
      profiledTokens: number;
      /** Whether `--max-total-tokens` set the size (below the profiled value). */
      isCappedByFlag: boolean;
      /** `--max-total-tokens` above the profiled value: SGLang warns and uses the profiled value. */
      isFlagAboveProfiled: boolean;
      /** Free memory per GPU before the weights load, GiB (`Load weight begin. avail mem=`). */
      preLoadGiB: number;
      /** The pool's bytes per GPU, GiB. */
      poolGiB: number;
    }
  | { ok: false; reason: string };

/**
 * Sizes the KV pool as SGLang's `profile_max_num_token` does: rest = free memory after the weights − free memory
 * before them × (1 − mem_fraction_static), i.e. the static share of the card minus the weights; tokens = rest ÷ bytes
 * per token; then `_resolve_token_capacity` caps it at `--max-total-tokens`. Held to the recorded H200 run (free 139.13
 * GiB, fraction 0.907 → 126.16 GiB of pool). No room left → SGLang's "Not enough memory. Please try to increase
 * --mem-fraction-static."
 */
export function sizeKvPool(inputs: KvPoolInputs): KvPoolSize {
  const preLoadGiB = inputs.vramGiB * PRE_LOAD_AVAILABLE_SHARE;
  const restGiB = preLoadGiB - inputs.weightsPerGpuGiB - preLoadGiB * (1 - inputs.memFractionStatic);
  const profiledTokens = Math.floor((Math.max(0, restGiB) * 2 ** 30) / inputs.bytesPerToken);
  if (profiledTokens <= 0) {
    return {
      ok: false,
      reason:
        'Not enough memory. Please try to increase --mem-fraction-static. ' +
        `Current value: mem_fraction_static=${inputs.memFractionStatic}`,
    };
  }
  const flag = inputs.maxTotalTokens;
  const tokens = flag === undefined ? profiledTokens : Math.min(flag, profiledTokens);
  return {
    ok: true,
    tokens,
    profiledTokens,
    isCappedByFlag: flag !== undefined && flag < profiledTokens,
    isFlagAboveProfiled: flag !== undefined && flag > profiledTokens,
    preLoadGiB,
    poolGiB: (tokens * inputs.bytesPerToken) / 2 ** 30,
  };
}

/**
 * The tokens a request reserves at admission: its prompt plus every token it may generate. SGLang's scheduler
 * reserves the prompt plus `min(max_new_tokens, 4096) × new_token_ratio` and retracts running requests when decode
 * outgrows the pool; the twin reserves in full (the ratio at 1, SGLang's value right after a retraction), so it never
 * retracts, and a request waits until its whole reservation fits.
 */
export function kvReservation(promptTokens: number, newTokens: number, poolTokens: number): number {
  return Math.min(poolTokens, promptTokens + Math.max(0, newTokens));
}
