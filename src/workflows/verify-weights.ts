import {
  ApplicationFailure,
  log,
  proxyActivities,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import { APP, PHASE } from '../shared/search-attributes';
import {
  VERIFY_MEMO_KEY,
  VERIFY_PHASE,
  type VerifyWeightsInput,
  type VerifyWeightsMemo,
  type VerifyWeightsResult,
} from '../shared/verify-weights-types';
import { longStorage } from './retry-profiles';

const storage = proxyActivities<Activities>(longStorage);

/**
 * The action of the `verify/<app>` schedule: re-hash every weights file against the sentinel (the stamp check before
 * a rollout sees any file touched through the filesystem; only this sees bytes that changed without a write). A
 * mismatch is the alert: the run fails with a non-retryable WeightsCorrupt naming the files, its memo and the phase
 * search attribute (`weights-corrupt`) say the same in the UI's list, and it is logged at error.
 */
export async function verifyWeights(input: VerifyWeightsInput): Promise<VerifyWeightsResult> {
  const { spec } = input;
  upsertSearchAttributes([
    { key: APP, value: spec.app },
    { key: PHASE, value: VERIFY_PHASE.running },
  ]);
  const status = await storage.weightsStatus.executeWithOptions(
    { summary: `Re-hash every weights file of ${spec.model.repo}@${spec.model.revision} against the sentinel` },
    [{ spec, full: true }],
  );
  const checkedAt = new Date(Date.now()).toISOString();
  const badFiles = (status.rehashed ?? []).filter((file) => !file.isMatch).map((file) => file.path);
  const memo: VerifyWeightsMemo = { state: status.state, checkedAt, badFiles, problems: status.problems.slice(0, 20) };
  upsertMemo({ [VERIFY_MEMO_KEY]: memo });
  if (status.state !== 'valid') {
    upsertSearchAttributes([{ key: PHASE, value: VERIFY_PHASE.failed }]);
    const what =
      badFiles.length > 0
        ? `${badFiles.length} file(s) no longer match the sentinel's sha256: ${badFiles.join(', ')}`
        : `the weights are ${status.state}: ${status.problems.join('; ') || 'no sentinel'}`;
    const message =
      `weights of ${spec.app} (${spec.model.repo}@${status.commit ?? spec.model.revision}, ${status.path}) failed ` +
      `the scheduled full re-hash: ${what}. Do not roll out or scale up on them: delete the named files from the ` +
      `${spec.volumes.weights} volume, then roll out (the weights phase re-downloads exactly the missing files)`;
    log.error('weights verify failed', { app: spec.app, state: status.state, badFiles, problems: memo.problems });
    setCurrentDetails(`CORRUPT: ${what}`);
    throw ApplicationFailure.create({
      type: ErrorType.WeightsCorrupt,
      nonRetryable: true,
      message,
      details: [{ app: spec.app, state: status.state, files: badFiles, problems: memo.problems }],
    });
  }
  upsertSearchAttributes([{ key: PHASE, value: VERIFY_PHASE.valid }]);
  const filesRehashed = status.rehashed?.length ?? 0;
  setCurrentDetails(`verified: ${filesRehashed} files re-hashed, all match the sentinel`);
  log.info('weights verified', { app: spec.app, filesRehashed, bytes: status.bytes });
  return {
    app: spec.app,
    repo: spec.model.repo,
    ...(status.commit ? { commit: status.commit } : {}),
    state: 'valid',
    filesRehashed,
    bytes: status.bytes,
    checkedAt,
  };
}
