// A unified diff of two small texts (a spec before and after a patch), as `diff -u` prints it, so a user can read the
// change or apply it with `patch`. Lines common to both ends are set aside first; the rest is matched by a longest
// common subsequence, which is cheap for the few changed lines of a spec patch.

/** Above this many lines between the common ends, the middle is shown as all removed, then all added. */
const MAX_MATCHED_LINES = 2_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

/** `diff -u` of `before` and `after` with `context` lines around each change; '' when they are the same. */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { before: string; after: string },
  context = 3,
): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const hunks = groupHunks(ops, context);
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  for (const hunk of hunks) {
    out.push(`@@ -${range(hunk.aStart, hunk.aCount)} +${range(hunk.bStart, hunk.bCount)} @@`);
    for (const op of hunk.ops) out.push(`${op.kind}${op.line}`);
  }
  return `${out.join('\n')}\n`;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function diffLines(a: string[], b: string[]): Op[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix += 1;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix += 1;
  }
  const middleA = a.slice(prefix, a.length - suffix);
  const middleB = b.slice(prefix, b.length - suffix);
  return [
    ...a.slice(0, prefix).map((line) => ({ kind: ' ' as const, line })),
    ...matchMiddle(middleA, middleB),
    ...a.slice(a.length - suffix).map((line) => ({ kind: ' ' as const, line })),
  ];
}

function matchMiddle(a: string[], b: string[]): Op[] {
  if (a.length > MAX_MATCHED_LINES || b.length > MAX_MATCHED_LINES) {
    return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  }
  // lcs[i][j] = longest common subsequence of a[i..] and b[j..].
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i += 1;
      j += 1;
    } else if (j >= b.length || (i < a.length && lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
      // On a tie the removal comes first, as diff prints a changed line: `-old` then `+new`.
      ops.push({ kind: '-', line: a[i]! });
      i += 1;
    } else {
      ops.push({ kind: '+', line: b[j]! });
      j += 1;
    }
  }
  return ops;
}

interface Hunk {
  aStart: number;
  aCount: number;
  bStart: number;
  bCount: number;
  ops: Op[];
}

function groupHunks(ops: Op[], context: number): Hunk[] {
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  const hunks: Hunk[] = [];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = Math.min(ops.length, changed[k]! + context + 1);
    while (k + 1 < changed.length && changed[k + 1]! - context <= end) {
      k += 1;
      end = Math.min(ops.length, changed[k]! + context + 1);
    }
    k += 1;
    const before = ops.slice(0, start);
    const slice = ops.slice(start, end);
    const aBefore = before.filter((op) => op.kind !== '+').length;
    const bBefore = before.filter((op) => op.kind !== '-').length;
    const aCount = slice.filter((op) => op.kind !== '+').length;
    const bCount = slice.filter((op) => op.kind !== '-').length;
    hunks.push({
      aStart: aCount === 0 ? aBefore : aBefore + 1,
      aCount,
      bStart: bCount === 0 ? bBefore : bBefore + 1,
      bCount,
      ops: slice,
    });
  }
  return hunks;
}

function range(start: number, count: number): string {
  return count === 1 ? String(start) : `${start},${count}`;
}
