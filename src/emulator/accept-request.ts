import type { ServerResponse } from 'node:http';
import type { Engine } from './engine';
import { sendJson } from './http-reply';
import type { Validated } from './lax-pydantic';
import { requestValidationError } from './openai-error';
import { endpointContext, type ParsedBody } from './serving-context';

/**
 * The request `validate` reads from the body, or undefined once the 400 went out: FastAPI's `Bad Request` listing
 * pydantic's errors and naming the route, for a body that is not JSON or one the request model refuses.
 */
export function acceptRequest<T>(
  engine: Engine,
  res: ServerResponse,
  body: ParsedBody,
  route: 'chat' | 'completions',
  validate: (value: unknown) => Validated<T>,
): T | undefined {
  const validated = body.ok ? validate(body.value) : { ok: false as const, errors: [body.error] };
  if (validated.ok) return validated.request;
  sendJson(res, 400, requestValidationError(validated.errors, endpointContext(engine, route)));
  return undefined;
}
