import type { PydanticError } from './openai-error';

/** A coerced value, or the pydantic error that rejects it. */
export type Coerced<T> = { ok: true; value: T } | { ok: false; error: PydanticError };

/** A body as a route's request model validated it: the request, or every error pydantic lists for it at once. */
export type Validated<T> = { ok: true; request: T } | { ok: false; errors: PydanticError[] };

/** The request, unless validation listed errors. */
export function validatedOf<T>(errors: PydanticError[], request: T): Validated<T> {
  return errors.length > 0 ? { ok: false, errors } : { ok: true, request };
}

type Loc = Array<string | number>;

const fail = (type: string, loc: Loc, msg: string, input: unknown): Coerced<never> => ({
  ok: false,
  error: { type, loc, msg, input },
});

/**
 * pydantic v2's lax-mode coercions for the scalar types SGLang's request models declare, with its error types and
 * messages. FastAPI validates the parsed JSON in Python mode, so `"10"` is a valid int and `1.5` is not.
 */
export const lax = {
  int(input: unknown, loc: Loc): Coerced<number> {
    if (typeof input === 'boolean') return { ok: true, value: input ? 1 : 0 };
    if (typeof input === 'number') {
      if (Number.isInteger(input)) return { ok: true, value: input };
      if (!Number.isFinite(input)) return fail('finite_number', loc, 'Input should be a finite number', input);
      return fail('int_from_float', loc, 'Input should be a valid integer, got a number with a fractional part', input);
    }
    if (typeof input === 'string') {
      const text = input.trim().replace(/_/g, '');
      if (/^[+-]?\d+$/.test(text)) return { ok: true, value: Number(text) };
      return fail('int_parsing', loc, 'Input should be a valid integer, unable to parse string as an integer', input);
    }
    return fail('int_type', loc, 'Input should be a valid integer', input);
  },

  float(input: unknown, loc: Loc): Coerced<number> {
    if (typeof input === 'boolean') return { ok: true, value: input ? 1 : 0 };
    if (typeof input === 'number') return { ok: true, value: input };
    if (typeof input === 'string') {
      const text = input.trim().toLowerCase();
      if (/^[+-]?(inf|infinity)$/.test(text)) return { ok: true, value: text.startsWith('-') ? -Infinity : Infinity };
      if (text === 'nan') return { ok: true, value: NaN };
      if (text !== '' && Number.isFinite(Number(text))) return { ok: true, value: Number(text) };
      return fail('float_parsing', loc, 'Input should be a valid number, unable to parse string as a number', input);
    }
    return fail('float_type', loc, 'Input should be a valid number', input);
  },

  bool(input: unknown, loc: Loc): Coerced<boolean> {
    if (typeof input === 'boolean') return { ok: true, value: input };
    if (typeof input === 'number') {
      if (input === 0 || input === 1) return { ok: true, value: input === 1 };
      return fail('bool_parsing', loc, 'Input should be a valid boolean, unable to interpret input', input);
    }
    if (typeof input === 'string') {
      const text = input.trim().toLowerCase();
      if (['1', 'on', 't', 'true', 'y', 'yes'].includes(text)) return { ok: true, value: true };
      if (['0', 'off', 'f', 'false', 'n', 'no'].includes(text)) return { ok: true, value: false };
      return fail('bool_parsing', loc, 'Input should be a valid boolean, unable to interpret input', input);
    }
    return fail('bool_type', loc, 'Input should be a valid boolean', input);
  },

  str(input: unknown, loc: Loc): Coerced<string> {
    if (typeof input === 'string') return { ok: true, value: input };
    return fail('string_type', loc, 'Input should be a valid string', input);
  },

  list(input: unknown, loc: Loc): Coerced<unknown[]> {
    if (Array.isArray(input)) return { ok: true, value: input };
    return fail('list_type', loc, 'Input should be a valid list', input);
  },

  dict(input: unknown, loc: Loc): Coerced<Record<string, unknown>> {
    if (isPlainObject(input)) return { ok: true, value: input };
    return fail('dict_type', loc, 'Input should be a valid dictionary', input);
  },

  /** A nested BaseModel given something that is not a mapping. */
  model(input: unknown, loc: Loc): Coerced<Record<string, unknown>> {
    if (isPlainObject(input)) return { ok: true, value: input };
    return fail(
      'model_attributes_type',
      loc,
      'Input should be a valid dictionary or object to extract fields from',
      input,
    );
  },
};

/** A required field that is absent. */
export function missing(loc: Loc, input: unknown): PydanticError {
  return { type: 'missing', loc, msg: 'Field required', input };
}

/** True for a JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
