/** How long {@link waitFor} polls, and what it says when the condition never holds. */
export interface WaitOptions {
  /** Names the awaited state in the failure message. */
  what?: string;
  /**
   * A hang guard sized for a loaded machine, not a speed requirement: a test asserts that the state is reached,
   * and how fast is the benchmarks' business (bench/). @default 30000
   */
  timeoutMs?: number;
  /** @default 50 */
  pollMs?: number;
}

/** Polls until the predicate holds; throws naming the awaited state when the hang guard passes. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { what = 'condition', timeoutMs = 30_000, pollMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  if (await predicate()) return;
  throw new Error(`${what}: not reached within ${timeoutMs} ms`);
}
