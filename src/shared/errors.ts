/**
 * The one vocabulary of failure types used by activities, workflows, the CLI and tests.
 * The SDK matches `retry.nonRetryableErrorTypes` against these strings, so they are constants, never literals.
 */
export const ErrorType = {
  /** The deployment spec failed validation or linting; nothing was touched. */
  SpecInvalid: 'SpecInvalid',
  /** The model repo or revision does not exist on the hub. */
  WeightsNotFound: 'WeightsNotFound',
  /** A downloaded file did not match its size or sha256 after retries. */
  WeightsCorrupt: 'WeightsCorrupt',
  /** The volume ran out of space. */
  DiskFull: 'DiskFull',
  /** A transient transport failure (connection reset, 5xx, 429): retried with backoff. */
  TransportError: 'TransportError',
  /** The DeepGEMM compile step failed or was killed. */
  CompileFailed: 'CompileFailed',
  /** The platform refused or failed a deploy. */
  DeployFailed: 'DeployFailed',
  /** A version or app that the caller named does not exist. */
  NotFound: 'NotFound',
  /** /health did not answer 200 within `health.startupTimeout`. */
  HealthTimeout: 'HealthTimeout',
  /** The engine process exited (the router answers 502). */
  EngineCrashed: 'EngineCrashed',
  /** A warmup request failed or timed out. */
  WarmupFailed: 'WarmupFailed',
  /** A post-deploy smoke test failed. */
  SmokeTestFailed: 'SmokeTestFailed',
  /** The performance gate (TTFT SLO) failed. */
  PerformanceGateFailed: 'PerformanceGateFailed',
  /** The user aborted the run. */
  Aborted: 'Aborted',
  /** A compensation step itself failed; what is left to do by hand is in the details. */
  CompensationFailed: 'CompensationFailed',
  /** A required tool or credential is missing on the worker (e.g. the modal client). */
  PlatformUnavailable: 'PlatformUnavailable',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failure types that no retry can fix: configuration and verdicts, not transport. */
export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = [
  ErrorType.SpecInvalid,
  ErrorType.WeightsNotFound,
  ErrorType.DiskFull,
  ErrorType.NotFound,
  ErrorType.SmokeTestFailed,
  ErrorType.PerformanceGateFailed,
  ErrorType.Aborted,
  ErrorType.PlatformUnavailable,
];
