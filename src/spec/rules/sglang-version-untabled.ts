import { findingOf, type LintRule } from '../finding';
import { flagTableForImage } from '../sglang-version';

/** The image tag names no release that has a flag table, so the flags are checked against another release's. */
export const sglangVersionUntabled: LintRule = {
  id: 'sglang-version-untabled',
  summary: 'the image tag names no SGLang version (or one older than every flag table)',
  reason:
    "SGLang's flag tables are per release (scripts/extract-sglang-flags.py): the image tag (lmsysorg/sglang:v0.5.10) says which one applies",
  check(spec) {
    const resolved = flagTableForImage(spec.sglang.image);
    if (resolved.choice !== 'no-version' && resolved.choice !== 'older-than-tables') return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'sglang.image',
        message: resolved.note,
        fix:
          resolved.choice === 'no-version'
            ? 'pin a versioned tag, e.g. lmsysorg/sglang:v0.5.10'
            : `extract that release's table: python3 scripts/extract-sglang-flags.py ${resolved.imageVersion ?? ''}`,
      }),
    ];
  },
};
