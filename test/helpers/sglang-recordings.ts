import * as fs from 'node:fs';
import * as path from 'node:path';

/** test/fixtures/sglang-real: recordings of the real SGLang 0.5.17 server (see its README). */
export const RECORDINGS_DIR = path.join(__dirname, '..', 'fixtures', 'sglang-real');

/** One event of a recorded timeline: seconds since spawn, its kind and its text. */
export interface TimelineEvent {
  atS: number;
  kind: 'LOG' | 'POLL' | 'EVENT';
  text: string;
}

// `+  48.037 08:07:59.669 LOG   text`, from the recorder's condensed timelines.
const TIMELINE_LINE = /^\+\s*(-?[\d.]+) \S+ (LOG {2}|POLL |EVENT) (.*)$/;
// The condenser's own notes appended to folded lines.
const CONDENSER_NOTE = /\s+\((?:first of its kind in this run)\)$|\s+\[x\d+, until \+[\d.]+\]$/;

/** Reads a recorded `*.condensed.log` (path relative to the recordings folder) into events. */
export function readTimeline(relativePath: string): TimelineEvent[] {
  const text = fs.readFileSync(path.join(RECORDINGS_DIR, relativePath), 'utf8');
  const events: TimelineEvent[] = [];
  for (const line of text.split('\n')) {
    const match = TIMELINE_LINE.exec(line);
    if (!match) continue;
    events.push({
      atS: Number(match[1]),
      kind: match[2]!.trim() as TimelineEvent['kind'],
      text: match[3]!.replace(CONDENSER_NOTE, ''),
    });
  }
  return events;
}

/** The server's own output lines of a recorded run, in order. */
export function serverLines(relativePath: string): string[] {
  return readTimeline(relativePath)
    .filter((e) => e.kind === 'LOG')
    .map((e) => e.text);
}

/** The returncode the recorder saw (`EVENT exit rc=-9`), if the run ended. */
export function recordedExitCode(relativePath: string): number | undefined {
  const exit = readTimeline(relativePath).find((e) => e.kind === 'EVENT' && e.text.startsWith('exit rc='));
  return exit ? Number(exit.text.slice('exit rc='.length)) : undefined;
}

/** Every recorded server run (condensed timelines), by relative path. */
export function recordedRuns(): string[] {
  return ['cpu', 'gpu'].flatMap((dir) =>
    fs
      .readdirSync(path.join(RECORDINGS_DIR, dir))
      .filter((name) => name.endsWith('.condensed.log'))
      .map((name) => `${dir}/${name}`),
  );
}

/** The body of a recorded `*.http.txt` exchange (transfer framing removed). */
export function recordedBody(relativePath: string): string {
  const text = fs.readFileSync(path.join(RECORDINGS_DIR, relativePath), 'utf8');
  const start = text.indexOf('=== RESPONSE BODY (transfer framing removed) ===\n');
  const end = text.indexOf('\n=== RECV TIMING');
  if (start === -1) throw new Error(`${relativePath}: no response body section`);
  return text.slice(start + '=== RESPONSE BODY (transfer framing removed) ===\n'.length, end === -1 ? undefined : end);
}
