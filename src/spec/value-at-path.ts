/**
 * The value at a finding's dotted field path (`sglang.args.max-running-requests`, `modal.maxInputs`) in a resolved
 * spec, or undefined when nothing is written there. Keys may themselves hold dots (an image tag under `local.images`),
 * so a segment that is not a key is joined with the next one before giving up.
 */
export function valueAtPath(root: unknown, path: string): unknown {
  const segments = path.split('.');
  let current: unknown = root;
  let index = 0;
  while (index < segments.length) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    let end = index + 1;
    while (end <= segments.length && !Object.hasOwn(record, segments.slice(index, end).join('.'))) end += 1;
    if (end > segments.length) return undefined;
    current = record[segments.slice(index, end).join('.')];
    index = end;
  }
  return current;
}
