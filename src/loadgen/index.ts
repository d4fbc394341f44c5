export { runBench, runBenchDetailed, resolveTarget, BenchOptionsError } from './run-bench';
export type { BenchOptions, BenchRun } from './run-bench';
export { calculateMetrics, type BenchMetrics } from './bench-metrics';
export { seriesStats, type SeriesStats } from './bench-stats';
export { peakFigures, type PeakFigures } from './peak-figures';
export { BenchDatasetError } from './file-prompts';
export type { RequestRecord } from './request-record';
