import type * as http from 'node:http';
import { handleChatCompletion } from './chat-completion-handler';
import { handleCompletion } from './completions-handler';
import type { Engine } from './engine';
import { handleGenerate } from './generate-handler';
import { sendJson } from './http-reply';
import { flushCache, getLoad, listModels, modelInfo, ready, retrieveModel, serverInfo } from './info-endpoints';
import { METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY, openAiError, unsupportedMediaTypeError } from './openai-error';
import { BodyTooLargeError, parseJsonBody, readBody } from './request-body';
import { wireOf, type ParsedBody } from './serving-context';

type Handler = (context: RouteContext) => Promise<void> | void;

interface RouteContext {
  engine: Engine;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
  arrivalMs: number;
}

interface Route {
  methods: string[];
  handle: Handler;
  /** A generation route: refused while the engine takes no requests, and counted for faults. */
  isGeneration?: boolean;
  /** Guarded by SGLang's `validate_json_request` dependency (content-type must be application/json). */
  needsJsonContentType?: boolean;
}

/** A generation handler: takes the parsed JSON body and answers on `res`. */
type GenerationHandler = (
  engine: Engine,
  res: http.ServerResponse,
  body: ParsedBody,
  arrivalMs: number,
) => Promise<void>;

/** A generation route: read the JSON body (answering itself when it cannot), then hand it to the handler. */
function generationRoute(
  engine: Engine,
  handler: GenerationHandler,
  options: Pick<Route, 'methods' | 'needsJsonContentType'>,
): Route {
  return {
    ...options,
    isGeneration: true,
    handle: async ({ req, res, arrivalMs }) => {
      const body = await readJson(engine, req, res);
      if (body) await handler(engine, res, body, arrivalMs);
    },
  };
}

/** The routes of SGLang's HTTP server the emulator serves, by path (health, metrics and control live elsewhere). */
function routesFor(engine: Engine): Map<string, Route> {
  const wire = wireOf(engine);
  const routes = new Map<string, Route>([
    ['/v1/models', { methods: ['GET'], handle: ({ res }) => listModels(engine, res) }],
    ['/model_info', { methods: ['GET'], handle: ({ res }) => modelInfo(engine, res, false) }],
    ['/get_model_info', { methods: ['GET'], handle: ({ res }) => modelInfo(engine, res, true) }],
    ['/server_info', { methods: ['GET'], handle: ({ req, res }) => serverInfo(engine, res, false, localPort(req)) }],
    ['/get_server_info', { methods: ['GET'], handle: ({ req, res }) => serverInfo(engine, res, true, localPort(req)) }],
    ['/flush_cache', { methods: ['GET', 'POST'], handle: ({ res }) => flushCache(engine, res) }],
    [
      '/v1/chat/completions',
      generationRoute(engine, handleChatCompletion, { methods: ['POST'], needsJsonContentType: true }),
    ],
    ['/v1/completions', generationRoute(engine, handleCompletion, { methods: ['POST'], needsJsonContentType: true })],
    ['/generate', generationRoute(engine, handleGenerate, { methods: ['POST', 'PUT'] })],
  ]);
  if (wire.hasGetLoadRoute) routes.set('/get_load', { methods: ['GET'], handle: ({ res }) => getLoad(engine, res) });
  if (wire.hasReadyRoute) routes.set('/ready', { methods: ['GET'], handle: ({ res }) => ready(engine, res) });
  return routes;
}

const tables = new WeakMap<Engine, Map<string, Route>>();

/**
 * Serves one request on SGLang's API routes (after auth): FastAPI's 404 `{"detail":"Not Found"}` for unknown paths,
 * 405 with `allow` for a known path and another method, `/v1/models/{model:path}` for any model name.
 */
export async function routeRequest(
  engine: Engine,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  arrivalMs: number,
): Promise<void> {
  let routes = tables.get(engine);
  if (!routes) {
    routes = routesFor(engine);
    tables.set(engine, routes);
  }
  const method = req.method ?? 'GET';
  const context: RouteContext = { engine, req, res, path, arrivalMs };
  if (path.startsWith('/v1/models/') && path.length > '/v1/models/'.length) {
    req.resume();
    if (method !== 'GET') return sendJson(res, 405, METHOD_NOT_ALLOWED_BODY, { allow: 'GET' });
    return retrieveModel(engine, res, decodeURIComponent(path.slice('/v1/models/'.length)));
  }
  const route = routes.get(path);
  if (!route) {
    req.resume();
    return sendJson(res, 404, NOT_FOUND_BODY);
  }
  if (!route.methods.includes(method)) {
    req.resume();
    return sendJson(res, 405, METHOD_NOT_ALLOWED_BODY, { allow: route.methods.join(', ') });
  }
  if (route.needsJsonContentType && !isJsonContentType(req)) {
    req.resume();
    return sendJson(res, 400, unsupportedMediaTypeError());
  }
  if (route.isGeneration && !engine.isAcceptingRequests) {
    req.resume();
    return sendJson(res, 503, openAiError(503, `The server is not ready yet (status: ${engine.status}).`));
  }
  if (!route.isGeneration) req.resume();
  await route.handle(context);
}

function isJsonContentType(req: http.IncomingMessage): boolean {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

/** Reads and parses a JSON body; an oversize body is answered 413 here (the emulator's own limit). */
async function readJson(
  engine: Engine,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<ParsedBody | undefined> {
  const limit = engine.settings.config.maxBodyBytes;
  try {
    return parseJsonBody(await readBody(req, limit));
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    res.setHeader('connection', 'close');
    sendJson(res, 413, openAiError(413, `Request body too large: the limit is ${limit} bytes (maxBodyBytes).`));
    return undefined;
  }
}

function localPort(req: http.IncomingMessage): number {
  return req.socket.localPort ?? 0;
}
