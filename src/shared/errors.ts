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
  /** What the caller asked for is already the case (the version named already serves): nothing was changed. */
  AlreadyCurrent: 'AlreadyCurrent',
  /** Another rollout of the app is running (one per app, `rollout/<app>`): let it finish or abort it first. */
  RolloutInProgress: 'RolloutInProgress',
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
  /**
   * An upgrade failed and was rolled back: the previous version serves and is healthy again. The upgrade workflow
   * ends with it (details[0] is the UpgradeResult), so the list shows a failure, not a green success.
   */
  UpgradeRolledBack: 'UpgradeRolledBack',
  /** A compensation step itself failed; what is left to do by hand is in the details. */
  CompensationFailed: 'CompensationFailed',
  /** A required tool or credential is missing on the worker (e.g. the modal client): a person has to fix it. */
  PlatformUnavailable: 'PlatformUnavailable',
  /** The platform did not answer (its daemon is down or restarting): an outage, retried until it is back. */
  PlatformUnreachable: 'PlatformUnreachable',
  /** A notification webhook refused the POST (a 4xx other than 408/425/429: a wrong or revoked URL, a bad body). */
  WebhookRefused: 'WebhookRefused',
  /** A webhook did not accept an event within the delivery window; the run the event was about is unaffected. */
  NotificationFailed: 'NotificationFailed',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * Whether an activity failure of each type is worth another attempt: transport and flaky steps are, configuration
 * and verdicts are not. The one place retryability is decided: activities never set `nonRetryable`, the workflows'
 * retry profiles pass {@link NON_RETRYABLE_ERROR_TYPES}. A `Record` over every type, so a new type must choose.
 */
export const RETRYABLE: Readonly<Record<ErrorType, boolean>> = {
  SpecInvalid: false,
  WeightsNotFound: false,
  // A bad file is re-downloaded; the download itself already retried each file, a new attempt may meet a fixed hub.
  WeightsCorrupt: true,
  DiskFull: false,
  TransportError: true,
  // One more try (the workflows cap compiles at two attempts): a killed compile may pass the second time.
  CompileFailed: true,
  DeployFailed: true,
  NotFound: false,
  AlreadyCurrent: false,
  RolloutInProgress: false,
  // The wait already spent all of health.startupTimeout: a retry resumes the same deadline, which has passed.
  HealthTimeout: false,
  EngineCrashed: false,
  // Retried once (the workflows cap it): a request that timed out on a still-cold engine may pass the second time.
  WarmupFailed: true,
  SmokeTestFailed: false,
  PerformanceGateFailed: false,
  Aborted: false,
  // Raised by workflows only, never by an activity; a person has to look.
  CompensationFailed: false,
  // Raised by the upgrade workflow only, never by an activity: its verdict.
  UpgradeRolledBack: false,
  // Misconfiguration (no modal client, no credentials, no engine): the same worker fails the same way next time.
  PlatformUnavailable: false,
  // An outage (daemon killed and restarted, a network blip): the compensations must outlive it.
  PlatformUnreachable: true,
  // The receiver said no: the same POST gets the same answer (Slack's 404 no_service, 410 for a removed channel).
  WebhookRefused: false,
  // Raised by the notify workflow only, after its deliveries gave up.
  NotificationFailed: false,
};

/** Failure types that no retry can fix: the `retry.nonRetryableErrorTypes` of every activity proxy. */
export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = (Object.keys(RETRYABLE) as ErrorType[]).filter(
  (type) => !RETRYABLE[type],
);
