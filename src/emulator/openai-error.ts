import { pyRepr, PyTuple } from './python-repr';

/** SGLang's OpenAI-shaped error body (`ErrorResponse` in sglang/srt/entrypoints/openai/protocol.py). */
export interface OpenAiErrorBody {
  object: 'error';
  message: string;
  type: string;
  param: string | null;
  code: number;
}

/**
 * The error the serving layer raises (`create_error_response`): SGLang types it `BadRequestError` whatever the
 * check was (empty messages, unknown tool, context length, bad sampling values), with `param` left null.
 */
export function openAiError(
  status: number,
  message: string,
  type = status === 400 ? 'BadRequestError' : (STATUS_TYPES[status] ?? 'InternalServerError'),
  param: string | null = null,
): OpenAiErrorBody {
  return { object: 'error', message, type, param, code: status };
}

const STATUS_TYPES: Record<number, string> = {
  404: 'NotFoundError',
  413: 'RequestEntityTooLarge',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

/** One pydantic v2 error as FastAPI reports it (`exc.errors()` items, without the `url` key). */
export interface PydanticError {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** Where FastAPI says the failing endpoint lives (the route decorator's file and line in the SGLang release). */
export interface EndpointContext {
  file: string;
  line: number;
  functionName: string;
  method: string;
  path: string;
}

/**
 * The 400 SGLang's `validation_exception_handler` sends for a request pydantic rejected: type is the HTTP phrase
 * `Bad Request` (not `BadRequestError`), and the message is `str(exc)` followed by `str(exc.errors())`.
 */
export function requestValidationError(errors: PydanticError[], endpoint?: EndpointContext): OpenAiErrorBody {
  const items = errors.map(toPythonError);
  let text = `${items.length} validation error${items.length === 1 ? '' : 's'}:\n`;
  for (const item of items) text += `  ${pyRepr(item)}\n`;
  if (endpoint) {
    text += `\n  File "${endpoint.file}", line ${endpoint.line}, in ${endpoint.functionName}\n    ${endpoint.method} ${endpoint.path}`;
  }
  const message = `${text.trimEnd()} ${pyRepr(items)}`;
  return { object: 'error', message, type: 'Bad Request', param: null, code: 400 };
}

/** The 400 for a body that is not `application/json` (SGLang's `validate_json_request` dependency). */
export function unsupportedMediaTypeError(): OpenAiErrorBody {
  // Raised by hand with a list loc and no input, so its repr differs from pydantic's own errors.
  const item = {
    loc: ['header', 'content-type'],
    msg: "Unsupported Media Type: Only 'application/json' is allowed",
    type: 'value_error',
  };
  const message = `1 validation error:\n  ${pyRepr(item)} ${pyRepr([item])}`;
  return { object: 'error', message, type: 'Bad Request', param: null, code: 400 };
}

function toPythonError(error: PydanticError): Record<string, unknown> {
  const item: Record<string, unknown> = {
    type: error.type,
    loc: new PyTuple(error.loc),
    msg: error.msg,
    input: error.input,
  };
  if (error.ctx) item.ctx = error.ctx;
  return item;
}

/** FastAPI's plain 404 for a path no route matches. */
export const NOT_FOUND_BODY = { detail: 'Not Found' } as const;

/** FastAPI's 405 for a known path with another method (sent with an `allow` header). */
export const METHOD_NOT_ALLOWED_BODY = { detail: 'Method Not Allowed' } as const;
