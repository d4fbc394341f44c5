/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent swaps): "statik" → "static" is 1, "tp-szie" → "tp-size"
 * is 1. Used for "did you mean ..." on flag names and choice values.
 */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  // Three rolling rows (the swap step looks two rows back), plain numbers for speed: did-you-mean scans every flag.
  let twoBack: number[] = new Array<number>(width).fill(0);
  let previous: number[] = Array.from({ length: width }, (_, j) => j);
  let current: number[] = new Array<number>(width).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ai = a.charCodeAt(i - 1);
    const aBefore = i > 1 ? a.charCodeAt(i - 2) : -1;
    for (let j = 1; j < width; j++) {
      const bj = b.charCodeAt(j - 1);
      let best = (previous[j - 1] as number) + (ai === bj ? 0 : 1);
      const deletion = (previous[j] as number) + 1;
      const insertion = (current[j - 1] as number) + 1;
      if (deletion < best) best = deletion;
      if (insertion < best) best = insertion;
      if (j > 1 && ai === b.charCodeAt(j - 2) && aBefore === bj) {
        const swap = (twoBack[j - 2] as number) + 1;
        if (swap < best) best = swap;
      }
      current[j] = best;
    }
    const recycled = twoBack;
    twoBack = previous;
    previous = current;
    current = recycled;
  }
  return previous[b.length] as number;
}

/**
 * The candidates closest to `word`, best first: those within a third of its length (at least 2 edits), up to `limit`.
 * An empty list means nothing is close enough to suggest.
 */
export function closestMatches(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = Math.max(2, Math.floor(word.length / 3));
  const scored: [string, number][] = [];
  for (const candidate of new Set(candidates)) {
    // The distance is at least the difference in length: skip what cannot be close.
    if (Math.abs(candidate.length - word.length) > threshold) continue;
    const distance = editDistance(word, candidate);
    if (distance <= threshold) scored.push([candidate, distance]);
  }
  return scored
    .sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .slice(0, limit)
    .map(([candidate]) => candidate);
}
