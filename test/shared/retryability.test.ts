import { ErrorType, NON_RETRYABLE_ERROR_TYPES, RETRYABLE } from '../../src/shared/errors';

/**
 * Which activity failures a retry may fix, pinned as it behaved before retryability moved into one table: then it
 * was decided by NON_RETRYABLE_ERROR_TYPES, the health wait's extra list (HealthTimeout, EngineCrashed) and
 * `nonRetryable: true` at throw sites (storage: WeightsNotFound, DiskFull, Aborted; smoke; spec; NotFound).
 * AlreadyCurrent and RolloutInProgress are new (they were NotFound and DeployFailed, both thrown by workflows, not
 * activities). CompensationFailed is raised by workflows only; no activity retry ever saw it.
 */
const EXPECTED: Array<[ErrorType, 'retried' | 'not retried']> = [
  [ErrorType.SpecInvalid, 'not retried'],
  [ErrorType.WeightsNotFound, 'not retried'],
  [ErrorType.WeightsCorrupt, 'retried'],
  [ErrorType.DiskFull, 'not retried'],
  [ErrorType.TransportError, 'retried'],
  [ErrorType.CompileFailed, 'retried'],
  [ErrorType.DeployFailed, 'retried'],
  [ErrorType.NotFound, 'not retried'],
  [ErrorType.AlreadyCurrent, 'not retried'],
  [ErrorType.RolloutInProgress, 'not retried'],
  [ErrorType.HealthTimeout, 'not retried'],
  [ErrorType.EngineCrashed, 'not retried'],
  [ErrorType.WarmupFailed, 'retried'],
  [ErrorType.SmokeTestFailed, 'not retried'],
  [ErrorType.PerformanceGateFailed, 'not retried'],
  [ErrorType.Aborted, 'not retried'],
  [ErrorType.CompensationFailed, 'not retried'],
  // New: the upgrade workflow's own verdict (its end, never an activity's).
  [ErrorType.UpgradeRolledBack, 'not retried'],
  [ErrorType.PlatformUnavailable, 'not retried'],
  // New with the split of PlatformUnavailable: a daemon that did not answer is an outage, not a misconfiguration.
  [ErrorType.PlatformUnreachable, 'retried'],
  // New with notifications: a receiver's refusal is final; the notify workflow's own give-up is its verdict.
  [ErrorType.WebhookRefused, 'not retried'],
  [ErrorType.NotificationFailed, 'not retried'],
];

test('the table covers every failure type exactly once', () => {
  expect(EXPECTED.map(([type]) => type).sort()).toEqual(Object.values(ErrorType).sort());
});

test.each(EXPECTED)('%s is %s', (type, verdict) => {
  expect(RETRYABLE[type]).toBe(verdict === 'retried');
  // The list every activity proxy passes as retry.nonRetryableErrorTypes says the same.
  expect(NON_RETRYABLE_ERROR_TYPES.includes(type)).toBe(verdict === 'not retried');
});
