// The statistics bench_serving takes with numpy, reproduced exactly so a figure means the same thing here and there:
// np.mean, np.median, np.std (population: ddof 0) and np.percentile's default linear interpolation between the two
// nearest ranks. bench_serving reports 0 for a figure with no samples (it passes `samples or 0` to numpy).

/** Mean, median, std, p90/p95/p99 and max of one series, in the series' unit. */
export interface SeriesStats {
  mean: number;
  median: number;
  std: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** numpy's figures of `values`; all 0 when there are none. */
export function seriesStats(values: readonly number[]): SeriesStats {
  if (values.length === 0) return { mean: 0, median: 0, std: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const mean = sum(sorted) / sorted.length;
  let squares = 0;
  for (const value of sorted) squares += (value - mean) ** 2;
  return {
    mean,
    median: percentileOfSorted(sorted, 50),
    std: Math.sqrt(squares / sorted.length),
    p90: percentileOfSorted(sorted, 90),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

/** np.percentile(values, q) with the default "linear" method: rank (n − 1)·q/100, interpolated. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const rank = ((sorted.length - 1) * q) / 100;
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  const fraction = rank - low;
  return sorted[low]! + (sorted[high]! - sorted[low]!) * fraction;
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}
