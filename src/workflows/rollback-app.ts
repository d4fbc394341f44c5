import { ApplicationFailure, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { RollbackInput, RollbackResult } from '../shared/rollout-types';
import { APP, DEPLOYED_VERSION, PHASE } from '../shared/search-attributes';
import { describeFailure } from './failure-description';
import { Notifier } from './notify-events';
import { restorePrevious } from './restore-previous';
import { quickIo } from './retry-profiles';

const act = proxyActivities<Activities>(quickIo);

/** Rollbacks from before the platform kept verified versions went to the version before the current one. */
const TO_LAST_VERIFIED = 'rollback-to-last-verified';

/**
 * The incident path: straight back to a known-good version without re-running the gates, still verifying health.
 * Recorded as its own workflow so the history shows who rolled back what, and when. Without a version named it goes
 * to the last version the platform recorded as verified (other than the one serving), else to the one before; the
 * version it restored and verified is recorded as verified.
 */
export async function rollbackApp(input: RollbackInput): Promise<RollbackResult> {
  const ref = { app: input.app, platform: input.platform };
  upsertSearchAttributes([
    { key: APP, value: input.app },
    { key: PHASE, value: 'rollback' },
  ]);
  const current = await act.currentDeployment.executeWithOptions({ summary: 'Read the version serving now' }, [ref]);
  const isRecordingVerified = patched(TO_LAST_VERIFIED);
  const verified =
    input.toVersion === undefined && isRecordingVerified
      ? await act.lastVerifiedDeployment.executeWithOptions(
          { summary: 'Read the last verified version (the default target)' },
          [{ ...ref, ...(current ? { excluding: current.version } : {}) }],
        )
      : null;
  const target = input.toVersion ?? verified?.version ?? (current ? current.version - 1 : undefined);
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
  // The webhooks of the version serving now: the app's own settings when the incident began.
  const notifier = new Notifier(current?.notify, {
    app: input.app,
    requestedBy: input.requestedBy,
    workflowType: 'rollbackApp',
  });
  const from = current ? `v${current.version}` : 'nothing';
  const restored = await restorePrevious(ref, target).catch(async (err: unknown) => {
    const cause = describeFailure(err);
    await notifier.emit('failed', {
      version: target,
      ...(current ? { previousVersion: current.version } : {}),
      summary: `${input.app}: rollback from ${from} to v${target} failed`,
      cause: { type: cause.type, message: cause.message.split('\n')[0]! },
    });
    throw err;
  });
  if (isRecordingVerified) {
    await act.markVerified.executeWithOptions({ summary: `Record v${restored.version} as verified` }, [
      { ...ref, version: restored.version },
    ]);
  }
  const endpoint = await act.appEndpoint.executeWithOptions({ summary: 'Read the endpoint' }, [ref]);
  upsertSearchAttributes([
    { key: DEPLOYED_VERSION, value: target },
    { key: PHASE, value: 'done' },
  ]);
  await notifier.emit('rolled-back', {
    version: restored.version,
    ...(current ? { previousVersion: current.version } : {}),
    servingVersion: restored.version,
    summary: `${input.app}: rolled back from ${from} to v${restored.version}, healthy on attempt ${restored.healthAttempt}${input.requestedBy ? ` (by ${input.requestedBy})` : ''}`,
  });
  return {
    app: input.app,
    fromVersion: current?.version,
    toVersion: target,
    healthAttempts: restored.healthAttempt,
    endpoint,
  };
}
