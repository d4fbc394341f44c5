import { ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { RollbackInput, RollbackResult } from '../shared/rollout-types';
import { APP, DEPLOYED_VERSION, PHASE } from '../shared/search-attributes';
import { restorePrevious } from './restore-previous';
import { quickIo } from './retry-profiles';

const act = proxyActivities<Activities>(quickIo);

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
  const restored = await restorePrevious(ref, target);
  const endpoint = await act.appEndpoint.executeWithOptions({ summary: 'Read the endpoint' }, [ref]);
  upsertSearchAttributes([
    { key: DEPLOYED_VERSION, value: target },
    { key: PHASE, value: 'done' },
  ]);
  return {
    app: input.app,
    fromVersion: current?.version,
    toVersion: target,
    healthAttempts: restored.healthAttempt,
    endpoint,
  };
}
