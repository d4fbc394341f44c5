import { ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../shared/errors';
import type { RollbackInput, RollbackResult } from '../shared/rollout-types';
import { APP, DEPLOYED_VERSION, PHASE } from '../shared/search-attributes';

const act = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 6, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/**
 * The incident path: straight back to a known-good version without re-running the gates, still verifying health.
 * Recorded as its own workflow so the history shows who rolled back what, and when.
 */
export async function rollbackApp(input: RollbackInput): Promise<RollbackResult> {
  const ref = { app: input.app, platform: input.platform };
  upsertSearchAttributes([
    { key: APP, value: input.app },
    { key: PHASE, value: 'rollback' },
  ]);
  const current = await act.currentDeployment.executeWithOptions({ summary: 'Read the version serving now' }, [ref]);
  const target = input.toVersion ?? (current ? current.version - 1 : undefined);
  if (target === undefined || target < 1 || target === current?.version) {
    throw ApplicationFailure.create({
      type: target !== undefined && target === current?.version ? ErrorType.AlreadyCurrent : ErrorType.NotFound,
      nonRetryable: true,
      message:
        target === current?.version && target !== undefined
          ? `${input.app} already serves v${target}`
          : `${input.app} has no earlier version to roll back to${current ? ` (serving v${current.version})` : ''}: name one with --to vN`,
    });
  }
  const restored = await act.rollbackTo.executeWithOptions({ summary: `Roll back to v${target}` }, [
    { ...ref, version: target },
  ]);
  const health = await proxyActivities<Activities>({
    startToCloseTimeout: `${Math.ceil(restored.startupTimeoutSec) + 120} seconds`,
    heartbeatTimeout: '10 seconds',
    retry: {
      maximumAttempts: 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ErrorType.HealthTimeout, ErrorType.EngineCrashed],
    },
  }).waitForHealth.executeWithOptions({ summary: `Verify v${target} is healthy` }, [
    {
      ...ref,
      secretName: restored.secretName,
      startupTimeoutSec: restored.startupTimeoutSec,
      pollIntervalSec: restored.pollIntervalSec,
    },
  ]);
  const endpoint = await act.appEndpoint.executeWithOptions({ summary: 'Read the endpoint' }, [ref]);
  upsertSearchAttributes([
    { key: DEPLOYED_VERSION, value: target },
    { key: PHASE, value: 'done' },
  ]);
  return { app: input.app, fromVersion: current?.version, toVersion: target, healthAttempts: health.attempt, endpoint };
}
