/**
 * The one renderer of a workflow's current details (`setCurrentDetails`), the markdown the Temporal UI shows beside
 * the history (its renderer reads GFM tables): a bold headline that states the outcome, then, for a workflow of
 * steps, a runbook table (phase | state | outcome | time), then notes (compensations, diagnoses). The rollout, the
 * upgrade and the keep-warm ping all render through it, so the UI reads the same way for each.
 */

/** One step of the runbook table. */
export interface RunbookRow {
  phase: string;
  state: string;
  /** What the step did, in one line ("downloaded 9 files (210.9 MB)"); empty while it has not ended. */
  outcome?: string;
  /** How long it took, or since when it runs. */
  time?: string;
}

export interface CurrentDetails {
  headline: string;
  rows?: RunbookRow[];
  notes?: string[];
}

export function renderCurrentDetails({ headline, rows = [], notes = [] }: CurrentDetails): string {
  const parts = [`**${inline(headline)}**`];
  if (rows.length > 0) {
    parts.push(
      [
        '| phase | state | outcome | time |',
        '| --- | --- | --- | --- |',
        ...rows.map((r) => `| ${[r.phase, r.state, r.outcome ?? '', r.time ?? ''].map(inline).join(' | ')} |`),
      ].join('\n'),
    );
  }
  if (notes.length > 0) parts.push(notes.map((note) => `- ${inline(note)}`).join('\n'));
  return parts.join('\n\n');
}

/**
 * A duration for the time column: `0.42 s`, `42.3 s`, `3 min 12 s`, `1 h 04 min` (a download of 700 GB runs for
 * hours, a health wait for minutes: each reads in its own unit).
 */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSec = Math.round(ms / 1000);
  if (totalSec < 3600) return `${Math.floor(totalSec / 60)} min ${totalSec % 60} s`;
  const totalMin = Math.floor(totalSec / 60);
  return `${Math.floor(totalMin / 60)} h ${String(totalMin % 60).padStart(2, '0')} min`;
}

/** The time column of a step still running: its start, in UTC (the UI's own clock zone may differ). */
export function runningSince(startedAt: string): string {
  return `since ${startedAt.slice(11, 19)} UTC`;
}

/**
 * One line of text as markdown that renders as that text: a newline would end a table row, a pipe would split a
 * cell, and `*`, `_`, backticks or `<` would turn a file name or an image tag into emphasis, code or stripped HTML.
 */
function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\\|*_`<>[\]]/g, (c) => `\\${c}`)
    .trim();
}
