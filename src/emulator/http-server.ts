import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { isRequestAllowed, UNAUTHORIZED_BODY } from './api-key-auth';
import { Fault } from './emulator-config';
import type { Engine } from './engine';
import { handleHealth } from './health-handler';
import { RequestAccounting } from './request-accounting';
import { sendJson } from './http-reply';
import { NOT_FOUND_BODY, openAiError } from './openai-error';
import { BodyTooLargeError, readBody } from './request-body';
import { routeRequest } from './routes';
import { wireOf } from './serving-context';
import * as z from 'zod';

/**
 * Creates the HTTP server with SGLang's routes, auth and error shapes. It does not listen: real SGLang binds its
 * port only once the model has loaded, so the start-up sequence calls `listen` (src/emulator/emulator.ts).
 */
export function createEmulatorServer(engine: Engine, accounting = new RequestAccounting(engine)): http.Server {
  const server = http.createServer({ noDelay: true }, (req, res) => {
    accounting.begin(req, res);
    route(engine, req, res).catch((err: unknown) => {
      engine.log.error(`[http_server] Error: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, openAiError(500, 'internal error in the emulator'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

async function route(engine: Engine, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  // TTFT counts from the request's arrival, before its body is read, as SGLang's does from the tokenizer's receipt.
  const arrivalMs = performance.now();
  // A hung process answers nothing, not even /health; the socket stays open until the client gives up.
  if (engine.hang === 'process' || engine.status === 'dead') {
    req.resume();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const isAllowed = isRequestAllowed({
    method,
    path,
    authorization: req.headers.authorization,
    apiKey: engine.args.apiKey,
    exemptsReady: wireOf(engine).hasReadyRoute,
  });
  if (!isAllowed) {
    req.resume();
    sendJson(res, 401, UNAUTHORIZED_BODY);
    return;
  }
  if (path === '/health' || path === '/health_generate') return handleHealth(engine, res);
  if (path === '/metrics' && method === 'GET') {
    if (!engine.args.enableMetrics) return notFound(res, path);
    const { contentType, body } = await engine.metrics.render();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
    return;
  }
  if (path.startsWith('/emulator/')) return control(engine, req, res, path, method);
  return routeRequest(engine, req, res, path, arrivalMs);
}

const ControlRequest = z.strictObject({ faults: z.array(Fault).min(1) });

async function control(
  engine: Engine,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  method: string,
): Promise<void> {
  if (!engine.settings.config.control.enabled) return notFound(res, path);
  if (path === '/emulator/state' && method === 'GET') {
    return sendJson(res, 200, {
      status: engine.status,
      hang: engine.hang,
      chat_requests: engine.chatRequestCount,
      running: engine.scheduler.running,
      queued: engine.scheduler.queued,
      faults: engine.faults,
    });
  }
  if (path === '/emulator/faults' && method === 'POST') {
    const body = await readJsonBody(engine, req, res);
    if (body === undefined) return;
    const parsed = ControlRequest.safeParse(body.value);
    if (!parsed.success) {
      return sendJson(
        res,
        400,
        openAiError(
          400,
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          undefined,
          'faults',
        ),
      );
    }
    sendJson(res, 200, { accepted: parsed.data.faults.length });
    for (const fault of parsed.data.faults) {
      engine.faults.push(fault);
      const isImmediate = (fault.kind === 'crash' || fault.kind === 'hang') && fault.afterRequests === undefined;
      if (isImmediate) setTimeout(() => engine.fire(fault), engine.scaled(fault.afterMs)).unref();
    }
    return;
  }
  return notFound(res, path);
}

async function readJsonBody(
  engine: Engine,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<{ value: unknown } | undefined> {
  const limit = engine.settings.config.maxBodyBytes;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    req.resume();
    sendJson(
      res,
      400,
      openAiError(400, "Unsupported Media Type: Only 'application/json' is allowed", undefined, 'content-type'),
    );
    return undefined;
  }
  let text: string;
  try {
    text = await readBody(req, limit);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      res.setHeader('connection', 'close');
      sendJson(res, 413, openAiError(413, `Request body too large: the limit is ${limit} bytes (maxBodyBytes).`));
      return undefined;
    }
    throw err;
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    sendJson(res, 400, openAiError(400, `Malformed JSON body: ${(err as Error).message}`, undefined, 'body'));
    return undefined;
  }
}

function notFound(res: http.ServerResponse, _path: string): void {
  sendJson(res, 404, NOT_FOUND_BODY);
}
