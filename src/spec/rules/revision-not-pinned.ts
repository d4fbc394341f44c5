import { findingOf, type LintRule } from '../finding';

/** A branch name moves: two rollouts of the same spec can download different weights. */
export const revisionNotPinned: LintRule = {
  id: 'revision-not-pinned',
  summary: 'model.revision is a branch name rather than a pinned commit',
  reason:
    'guide §13 (fragile download idempotency) and §20 (align what you deploy with what you validated): pin inputs',
  check(spec) {
    if (/^[0-9a-f]{40}$/.test(spec.model.revision)) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'model.revision',
        message: `model.revision ${JSON.stringify(spec.model.revision)} is not a 40-character commit sha, so the weights can change under the same spec`,
        fix: 'pin model.revision to the commit sha the first download resolved (shown by the rollout)',
      }),
    ];
  },
};
