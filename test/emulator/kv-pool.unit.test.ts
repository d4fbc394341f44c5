import { lookupEmulatedGpu } from '../../src/emulator/gpu-table';
import { kvBytesPerToken, kvReservation, sizeKvPool } from '../../src/emulator/kv-pool';

// The KV pool as SGLang's profile_max_num_token sizes it, for GLM-5.1 on the guide's GPUs.
const B200 = lookupEmulatedGpu('B200')!;
const H200 = lookupEmulatedGpu('H200')!;
const guideWeightsPerGpuGiB = 700e9 / 2 ** 30 / 8;
const bf16 = kvBytesPerToken('auto', true);
const pool = (vramGiB: number, memFractionStatic: number, maxTotalTokens?: number) =>
  sizeKvPool({
    vramGiB,
    weightsPerGpuGiB: guideWeightsPerGpuGiB,
    memFractionStatic,
    maxTotalTokens,
    bytesPerToken: bf16,
  });
const tokensOf = (size: ReturnType<typeof pool>): number => (size.ok ? size.tokens : NaN);

describe('kvBytesPerToken (GLM-5.1: MLA 512 + 64 and the DSA indexer, 78 layers)', () => {
  test('BF16: (576 × 2 + 132) bytes × 78 layers, plus the MTP layer with EAGLE', () => {
    expect(kvBytesPerToken('auto', false)).toBe(1284 * 78);
    expect(kvBytesPerToken('auto', true)).toBe(1284 * 79);
  });

  test('FP8 KV halves the latent, not the indexer', () => {
    expect(kvBytesPerToken('fp8_e4m3', false)).toBe((576 + 132) * 78);
  });
});

describe('sizeKvPool', () => {
  test('matches the recorded H200 run: free 139.13 GiB at fraction 0.907 leaves 126.16 GiB of pool', () => {
    // The recording's tiny model: 2 layers × 256 bytes for K and V each (K size 63.08 GB for 132,287,100 tokens).
    const size = sizeKvPool({
      vramGiB: 139.13 / 0.97,
      weightsPerGpuGiB: 0.01,
      memFractionStatic: 0.907,
      bytesPerToken: 1024,
    });
    expect(size.ok && size.poolGiB).toBeCloseTo(126.16, 1);
    expect(tokensOf(size)).toBeGreaterThan(132_200_000);
    expect(tokensOf(size)).toBeLessThan(132_400_000);
  });

  test.each([
    // GPU, fraction, pool (tokens): the static share of one GPU minus 81.5 GiB of weights, over 101,436 bytes a token.
    ['B200', 0.85, 690_000, 710_000],
    ['B200', 0.88, 750_000, 760_000],
    ['B200', 0.9, 785_000, 795_000],
    ['H200', 0.83, 250_000, 258_000],
    ['H200', 0.85, 275_000, 285_000],
  ] as const)('%s at fraction %d: memory gives %d–%d tokens', (name, fraction, low, high) => {
    const size = pool((name === 'B200' ? B200 : H200).vramGiB, fraction);
    expect(size.ok && size.isCappedByFlag).toBe(false);
    expect(tokensOf(size)).toBeGreaterThan(low);
    expect(tokensOf(size)).toBeLessThan(high);
  });

  test('a higher fraction buys more pool, and H200 (141 GB) far less than B200 (192 GB) at the same fraction', () => {
    expect(tokensOf(pool(B200.vramGiB, 0.88))).toBeGreaterThan(tokensOf(pool(B200.vramGiB, 0.85)));
    expect(tokensOf(pool(H200.vramGiB, 0.85))).toBeLessThan(tokensOf(pool(B200.vramGiB, 0.85)) / 2);
  });

  test('--max-total-tokens caps the pool (the guide’s 65536), and a larger value gives way to the profiled one', () => {
    const capped = pool(B200.vramGiB, 0.88, 65_536);
    expect(capped).toMatchObject({ ok: true, tokens: 65_536, isCappedByFlag: true, isFlagAboveProfiled: false });
    const above = pool(H200.vramGiB, 0.83, 2_000_000_000);
    expect(above).toMatchObject({ ok: true, isCappedByFlag: false, isFlagAboveProfiled: true });
    expect(tokensOf(above)).toBe(tokensOf(pool(H200.vramGiB, 0.83)));
  });

  test('weights beyond the static share: SGLang’s “Not enough memory”', () => {
    const size = sizeKvPool({
      vramGiB: B200.vramGiB,
      weightsPerGpuGiB: guideWeightsPerGpuGiB * 2,
      memFractionStatic: 0.88,
      bytesPerToken: bf16,
    });
    expect(size).toEqual({
      ok: false,
      reason:
        'Not enough memory. Please try to increase --mem-fraction-static. Current value: mem_fraction_static=0.88',
    });
  });
});

describe('kvReservation', () => {
  test('prompt plus every token it may generate, never more than the pool', () => {
    expect(kvReservation(1000, 128, 65_536)).toBe(1128);
    expect(kvReservation(60_000, 10_000, 65_536)).toBe(65_536);
  });
});
