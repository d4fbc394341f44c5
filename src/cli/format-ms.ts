/**
 * A duration for people, the same in the live progress, the report and `rollout status`: `4.27 s` under ten seconds,
 * `42.3 s` under a minute, `3.5 min` from there; `unknown` (default empty) when there is no duration yet.
 */
export function formatMs(ms: number | undefined, unknown = ''): string {
  if (ms === undefined) return unknown;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
