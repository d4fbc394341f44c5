import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogLine } from '../platform';

const RELATIVE_SINCE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Turns `since` (ISO time, or Modal-style `30s`/`5m`/`2h`) into epoch ms; throws naming the value otherwise. */
export function parseSince(since: string, nowMs = Date.now()): number {
  const relative = RELATIVE_SINCE.exec(since.trim());
  if (relative) return nowMs - Number(relative[1]) * UNIT_MS[relative[2] as string]!;
  const absolute = Date.parse(since);
  if (Number.isNaN(absolute)) throw new Error(`logs since "${since}" is neither an ISO time nor a duration like 5m`);
  return absolute;
}

/**
 * An app's captured lines (engine stdout/stderr and the platform's own `system` lines) as JSON lines on disk,
 * so they survive a daemon restart. Every line passes through the redactor first: secrets never reach the file.
 */
export class AppLog {
  private readonly file: string;

  constructor(
    dir: string,
    private readonly redact: (text: string) => string,
    private readonly onLine?: (line: LogLine) => void,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'logs.jsonl');
  }

  /** Appends lines captured now. */
  append(stream: LogLine['stream'], texts: string[]): void {
    if (texts.length === 0) return;
    const time = new Date().toISOString();
    const lines = texts.map((text) => ({ time, stream, text: this.redact(text) }));
    fs.appendFileSync(this.file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n', { mode: 0o600 });
    for (const line of lines) this.onLine?.(line);
  }

  /** A platform line (monitor, router, adoption). */
  system(text: string): void {
    this.append('system', [text]);
  }

  /** Lines captured at or after `since`, the newest `limit` of them. */
  read(options: { since?: string; limit?: number } = {}): LogLine[] {
    if (!fs.existsSync(this.file)) return [];
    const sinceMs = options.since ? parseSince(options.since) : undefined;
    const lines: LogLine[] = [];
    for (const raw of fs.readFileSync(this.file, 'utf8').split('\n')) {
      if (!raw) continue;
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        continue; // A line torn by a killed daemon is skipped, not fatal.
      }
      if (sinceMs !== undefined && Date.parse(line.time) < sinceMs) continue;
      lines.push(line);
    }
    return options.limit !== undefined ? lines.slice(-options.limit) : lines;
  }
}
