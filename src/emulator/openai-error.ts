/** SGLang's OpenAI-shaped error body (`ErrorResponse` in sglang/srt/entrypoints/openai/protocol.py). */
export interface OpenAiErrorBody {
  object: 'error';
  message: string;
  type: string;
  param: string | null;
  code: number;
}

const TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  405: 'MethodNotAllowed',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

/** Builds an error body for a status, naming the offending parameter when there is one. */
export function openAiError(status: number, message: string, param: string | null = null): OpenAiErrorBody {
  return { object: 'error', message, type: TYPES[status] ?? 'InternalServerError', param, code: status };
}
