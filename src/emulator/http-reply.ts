import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Sends a JSON body with a status, with the headers SGLang's FastAPI app sends (CORS adds `vary: Origin`). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-length': Buffer.byteLength(text),
    'content-type': 'application/json',
    // The API-key middleware answers before the CORS middleware, so 401s carry no vary header.
    ...(status === 401 ? {} : { vary: 'Origin' }),
    ...headers,
  });
  res.end(text);
}

/** Opens an SSE response as uvicorn sends one (`text/event-stream; charset=utf-8`, chunked). */
export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', vary: 'Origin' });
  res.flushHeaders();
}

/** A request id as SGLang makes them: a uuid4 in hex, no dashes. */
export function newRequestId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Seconds since the epoch, as `created` fields carry them. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
