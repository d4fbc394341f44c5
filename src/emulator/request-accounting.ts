import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { Engine } from './engine';

/** Routes whose path has a parameter, labelled by their template as SGLang's HTTP metrics label them. */
const TEMPLATED_ROUTES: ReadonlyArray<[RegExp, string]> = [[/^\/v1\/models\/.+/, '/v1/models/{model:path}']];

/** Generation routes: what `Gracefully exiting... Remaining number of requests N` counts. */
const GENERATION_ROUTES = new Set(['/v1/chat/completions', '/v1/completions', '/generate']);

/** The endpoint label of a path: its route template, or the path itself (unknown paths are labelled raw). */
export function endpointLabel(path: string): string {
  for (const [pattern, template] of TEMPLATED_ROUTES) if (pattern.test(path)) return template;
  return path;
}

/**
 * What the server does around every request, as uvicorn and SGLang's HTTP middleware do: the access-log line when
 * the response starts (`INFO:     127.0.0.1:46054 - "GET /health HTTP/1.1" 503 Service Unavailable`), the
 * `sglang:http_requests_*` series, and the ids of generation requests still in flight (for the SIGTERM drain lines).
 */
export class RequestAccounting {
  private readonly inFlight = new Map<http.ServerResponse, string>();

  constructor(private readonly engine: Engine) {}

  /** Starts accounting for one request; call before the route handles it. */
  begin(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const method = req.method ?? 'GET';
    const finish = this.engine.metrics.httpRequestStarted(endpointLabel(path), method);
    const client = `${req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'}:${req.socket.remotePort ?? 0}`;
    const requestLine = `${method} ${req.url ?? '/'} HTTP/${req.httpVersion}`;
    const log = this.engine.log;
    const original = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse;
    let isLogged = false;
    // Every response passes through writeHead (ServerResponse's implicit header calls it too): log once there.
    res.writeHead = ((...args: unknown[]) => {
      if (!isLogged) {
        isLogged = true;
        const status = typeof args[0] === 'number' ? args[0] : res.statusCode;
        log.access(client, requestLine, status, http.STATUS_CODES[status] ?? '');
      }
      return original(...args);
    }) as typeof res.writeHead;
    if (GENERATION_ROUTES.has(path)) this.inFlight.set(res, randomBytes(16).toString('hex'));
    res.once('close', () => {
      this.inFlight.delete(res);
      finish(res.headersSent ? res.statusCode : 0);
    });
  }

  /** Ids of the generation requests still in flight. */
  remainingRids(): string[] {
    return [...this.inFlight.values()];
  }
}
