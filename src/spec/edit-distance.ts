/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent swaps): "statik" → "static" is 1, "tp-szie" → "tp-size"
 * is 1. Used for "did you mean ..." on flag names and choice values.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const above = d[i - 1] as number[];
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The candidates closest to `word`, best first: those within a third of its length (at least 2 edits), up to `limit`.
 * An empty list means nothing is close enough to suggest.
 */
export function closestMatches(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = Math.max(2, Math.floor(word.length / 3));
  const scored: [string, number][] = [];
  for (const candidate of new Set(candidates)) {
    const distance = editDistance(word, candidate);
    if (distance <= threshold) scored.push([candidate, distance]);
  }
  return scored
    .sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))
    .slice(0, limit)
    .map(([candidate]) => candidate);
}
