/** A Python tuple, so `repr` prints `('body', 'max_tokens')` rather than a list. */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python exception object inside an error's `ctx`, printed as `ValueError("...")`. */
export class PyException {
  constructor(
    readonly name: string,
    readonly message: string,
  ) {}
}

/**
 * Python's `repr()` of JSON-like values. SGLang's 400 bodies embed `str(exc.errors())` verbatim, so the emulator
 * has to print dicts, tuples and strings exactly as CPython does (quote choice, escapes, `None`/`True`).
 */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'string') return pyString(value);
  if (value instanceof PyTuple) {
    const inner = value.items.map(pyRepr);
    return inner.length === 1 ? `(${inner[0]},)` : `(${inner.join(', ')})`;
  }
  if (value instanceof PyException) return `${value.name}(${pyString(value.message)})`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyString(k)}: ${pyRepr(v)}`);
  return `{${entries.join(', ')}}`;
}

function pyNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // JSON numbers that were written with a fraction arrive as floats in Python; integers stay ints.
  return String(value);
}

/** CPython's string repr: single quotes unless the text has a single quote and no double quote. */
export function pyString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}

/**
 * Python's `json.dumps(value, ensure_ascii=False)`: `", "` and `": "` separators, which is how SGLang writes tool-call
 * arguments. JSON.stringify alone would print `{"a":1}` where clients of real SGLang see `{"a": 1}`.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${JSON.stringify(k)}: ${pyJsonDumps(v)}`,
  );
  return `{${entries.join(', ')}}`;
}

/** Python's `str(float(x))`: integral values keep a `.0` (`-1` prints as `-1.0`). */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? value.toFixed(1) : String(value);
}
