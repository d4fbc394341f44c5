/**
 * Splits a log file into lines: plain text as is, and JSON-lines records (the local platform's `logs.jsonl`, or
 * exported logs with a `text`/`message`/`msg` field) unwrapped to their text.
 */
export function logTextToLines(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '') continue;
    lines.push(unwrapJsonRecord(raw) ?? raw);
  }
  return lines;
}

function unwrapJsonRecord(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  try {
    const record = JSON.parse(trimmed) as Record<string, unknown>;
    for (const field of ['text', 'message', 'msg']) {
      if (typeof record[field] === 'string') return record[field] as string;
    }
  } catch {
    // Not JSON after all: keep the raw line.
  }
  return undefined;
}
