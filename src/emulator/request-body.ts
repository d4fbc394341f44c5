import type * as http from 'node:http';
import type { PydanticError } from './openai-error';
import type { ParsedBody } from './serving-context';

/** Thrown by the body reader when the body is larger than `maxBodyBytes`. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads a request body as text, refusing more than `limitBytes` (declared or sent). */
export function readBody(req: http.IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limitBytes) {
      req.resume();
      reject(new BodyTooLargeError(limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let isOver = false;
    req.on('data', (part: Buffer) => {
      if (isOver) return;
      size += part.length;
      if (size > limitBytes) {
        isOver = true;
        reject(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(part);
    });
    req.on('end', () => {
      if (!isOver) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/**
 * Parses a JSON body the way FastAPI reports failures: an empty body is `missing` at `('body',)`, bad JSON is
 * `json_invalid` at the character offset with the decoder's complaint (orjson's wording: `unexpected end of data`
 * when the text stops early).
 */
export function parseJsonBody(text: string): ParsedBody {
  if (text.trim() === '')
    return { ok: false, error: { type: 'missing', loc: ['body'], msg: 'Field required', input: null } };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const match = /position (\d+)/.exec((err as Error).message);
    const at = match ? Number(match[1]) : Buffer.byteLength(text);
    const isEnd = at >= text.trimEnd().length;
    const error: PydanticError = {
      type: 'json_invalid',
      loc: ['body', isEnd ? Buffer.byteLength(text) : at],
      msg: 'JSON decode error',
      input: {},
      ctx: { error: isEnd ? 'unexpected end of data' : 'unexpected character' },
    };
    return { ok: false, error };
  }
}
