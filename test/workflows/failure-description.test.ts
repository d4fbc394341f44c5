import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { ErrorType } from '../../src/shared/errors';
import { describeFailure, healthAttemptOf, symptomsOf } from '../../src/workflows/failure-description';

/** An activity failure as the workflow sees it: the activity's own failure as the cause. */
function activityFailure(cause: Error): ActivityFailure {
  return new ActivityFailure('Activity task failed', 'someActivity', '1', RetryState.NON_RETRYABLE_FAILURE, 'w', cause);
}

function applicationFailure(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, ...(details ? { details: [details] } : {}) });
}

describe('describeFailure', () => {
  it('an abort wins over the error, with its reason or as a cancellation', () => {
    const err = activityFailure(applicationFailure(ErrorType.HealthTimeout, 'late'));
    expect(describeFailure(err, { reason: 'wrong image' })).toEqual({
      type: 'Aborted',
      message: 'aborted: wrong image',
    });
    expect(describeFailure(err, {})).toEqual({ type: 'Aborted', message: 'aborted: the workflow was cancelled' });
  });

  it("an activity's ApplicationFailure keeps its type and message", () => {
    const err = activityFailure(applicationFailure(ErrorType.DiskFull, 'volume full'));
    expect(describeFailure(err)).toEqual({ type: 'DiskFull', message: 'volume full' });
  });

  it('an activity that timed out has no type of its own: a transport matter, with the timeout as the message', () => {
    const err = activityFailure(new TimeoutFailure('activity Heartbeat timeout', undefined, TimeoutType.HEARTBEAT));
    expect(describeFailure(err)).toEqual({ type: 'TransportError', message: 'activity Heartbeat timeout' });
  });

  it('a failure thrown by workflow code, or anything else, is described too', () => {
    expect(describeFailure(applicationFailure(ErrorType.RolloutInProgress, 'busy'))).toEqual({
      type: 'RolloutInProgress',
      message: 'busy',
    });
    expect(describeFailure(new Error('boom'))).toEqual({ type: 'TransportError', message: 'boom' });
    expect(describeFailure('a string')).toEqual({ type: 'TransportError', message: 'a string' });
  });
});

describe('symptomsOf', () => {
  it('names the failed smoke tests and warmups, and the probe outcomes of a health wait', () => {
    const smoke = applicationFailure(ErrorType.SmokeTestFailed, 'smoke', {
      results: [
        { name: 'reasoning', passed: false },
        { name: 'auth', passed: true },
      ],
    });
    const warmup = applicationFailure(ErrorType.WarmupFailed, 'warmup', {
      results: [
        { name: 'tools', ok: false },
        { name: 'chat', ok: true },
      ],
    });
    const health = applicationFailure(ErrorType.HealthTimeout, 'late', {
      attempt: 7,
      outcomes: { 'not-ready': 6, timeout: 1 },
    });
    expect(symptomsOf(activityFailure(smoke))).toEqual({ smokeFailures: ['reasoning'] });
    expect(symptomsOf(activityFailure(warmup))).toEqual({ warmupFailures: ['tools'] });
    expect(symptomsOf(activityFailure(health))).toEqual({ probeOutcomes: ['not-ready', 'timeout'] });
  });

  it('has nothing to say about a failure without details, or one that is not an activity failure', () => {
    expect(symptomsOf(activityFailure(applicationFailure(ErrorType.DeployFailed, 'refused')))).toEqual({});
    expect(
      symptomsOf(applicationFailure(ErrorType.SmokeTestFailed, 'smoke', { results: [{ name: 'x', passed: false }] })),
    ).toEqual({});
  });
});

describe('healthAttemptOf', () => {
  it('reads the attempt a failed health wait gave up on, and nothing from other failures', () => {
    expect(healthAttemptOf(activityFailure(applicationFailure(ErrorType.EngineCrashed, '502', { attempt: 3 })))).toBe(
      3,
    );
    expect(healthAttemptOf(activityFailure(applicationFailure(ErrorType.EngineCrashed, '502')))).toBeUndefined();
    expect(healthAttemptOf(new Error('x'))).toBeUndefined();
  });
});
