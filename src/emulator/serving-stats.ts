import type { Engine } from './engine';

/** What the scheduler keeps for `/server_info`: speculative accept counts and recent decode throughput. */
interface Stats {
  acceptedTokens: number;
  verifySteps: number;
  recent: Array<{ atMs: number; tokens: number }>;
}

const stats = new WeakMap<Engine, Stats>();

function statsOf(engine: Engine): Stats {
  let value = stats.get(engine);
  if (!value) {
    value = { acceptedTokens: 0, verifySteps: 0, recent: [] };
    stats.set(engine, value);
  }
  return value;
}

/** Counts one delivered step; verify steps (after the prefill token) feed the accept length. */
export function noteStep(engine: Engine, tokens: number, isVerifyStep: boolean): void {
  const value = statsOf(engine);
  value.recent.push({ atMs: Date.now(), tokens });
  if (value.recent.length > 10_000) value.recent.splice(0, 5_000);
  if (!isVerifyStep || !engine.isSpeculative) return;
  value.acceptedTokens += tokens;
  value.verifySteps += 1;
}

/** `avg_spec_accept_length`: accepted tokens per verify forward since start-up or the last cache flush. */
export function acceptLengthOf(engine: Engine): number | undefined {
  const value = statsOf(engine);
  return value.verifySteps === 0 ? undefined : value.acceptedTokens / value.verifySteps;
}

/** `last_gen_throughput`: tokens per second over the last 5 s. */
export function recentThroughput(engine: Engine): number {
  const since = Date.now() - 5_000;
  return statsOf(engine).recent.reduce((sum, e) => (e.atMs >= since ? sum + e.tokens : sum), 0) / 5;
}

/** `/flush_cache` resets the scheduler's metrics reporter, accept counts included. */
export function resetAcceptLength(engine: Engine): void {
  const value = statsOf(engine);
  value.acceptedTokens = 0;
  value.verifySteps = 0;
}
