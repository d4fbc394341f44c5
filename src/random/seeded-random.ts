/**
 * A small seeded generator (mulberry32), shared by the emulator (the same request always yields the same output) and
 * the load generator (a `--seed` reproduces the same prompts, lengths and arrival times). Not numpy's Mersenne
 * Twister: the same seed gives a different (equally random) sequence than bench_serving's.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Builds a generator from any text (FNV-1a hash of the text and the seed). */
  static fromText(text: string, seed = 0): SeededRandom {
    let hash = (2166136261 ^ seed) >>> 0;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 16777619) >>> 0;
    }
    return new SeededRandom(hash);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [low, high], both included (numpy's `randint(low, high + 1)`). */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** An exponential interval with the given mean: the gap between Poisson arrivals. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
