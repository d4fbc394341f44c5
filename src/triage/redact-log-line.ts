const KEY_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer)\s+[^\s"',]+/gi, '$1 ***'],
  [/(--api-key[= ])(?!\*\*\*)[^\s"',]+/gi, '$1***'],
  [/\b(api_?key|apiKey)(["']?\s*[=:]\s*["']?)(?!\*\*\*)[^\s"',)]+/gi, '$1$2***'],
];

/** Masks API keys in a log line: the given secret values and the usual shapes (`Bearer x`, `api_key=x`, `--api-key x`). */
export function redactLogLine(line: string, secrets: readonly string[] = []): string {
  let text = line;
  for (const secret of secrets) if (secret) text = text.split(secret).join('***');
  for (const [pattern, replacement] of KEY_SHAPES) text = text.replace(pattern, replacement);
  return text;
}
