/**
 * How long an activity's summary may be. The Temporal UI (2.54, the one the temporal CLI ships) shows it twice: in the
 * history table, in a box of 36rem at 12 px beside the "Summary" label (about 80 characters), and on the timeline as
 * `<activity type> • <summary>` cut at 120 characters with "..." (the longest activity type here has 22). The server
 * caps the payload at 400 bytes (`limit.userMetadataSummarySize`). 60 characters fit all three.
 */
export const STEP_SUMMARY_MAX_CHARS = 60;

/**
 * An activity summary: what the step is ("DeepGEMM compile for B200"), never what it intends or might skip (the
 * outcome goes into the current details). A longer text, from a long app name or image tag, is cut with "…" on a
 * code-point boundary, so the UI never cuts it somewhere of its own.
 */
export function stepSummary(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= STEP_SUMMARY_MAX_CHARS
    ? chars.join('')
    : `${chars.slice(0, STEP_SUMMARY_MAX_CHARS - 1).join('')}…`;
}

/** An image reference without its registry and owner (`lmsysorg/sglang:v0.5.10` → `sglang:v0.5.10`). */
export function imageName(image: string): string {
  return image.slice(image.lastIndexOf('/') + 1);
}

/** A model revision as a summary names it: a commit sha by its first 12 characters, a branch or tag as it is. */
export function shortRevision(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 12) : revision;
}
