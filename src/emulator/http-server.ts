import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { handleChatCompletion, sendJson } from './chat-completion-handler';
import { Fault } from './emulator-config';
import type { Engine } from './engine';
import { openAiError } from './openai-error';
import * as z from 'zod';

const VERSION = '0.5.10-emulator';

/** Thrown by the body reader when the body is larger than `maxBodyBytes`. */
class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Creates the HTTP server with SGLang's routes, auth and error shapes. */
export function createEmulatorServer(engine: Engine): http.Server {
  const server = http.createServer({ noDelay: true }, (req, res) => {
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
  if (!isAuthorized(engine, req, path, method)) {
    req.resume();
    sendJson(res, 401, { error: 'Unauthorized' });
    return;
  }
  if (path === '/health' || path === '/health_generate') return health(engine, res);
  if (path === '/metrics' && method === 'GET') {
    if (!engine.args.enableMetrics) return notFound(res, path);
    const { contentType, body } = await engine.metrics.render();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
    return;
  }
  if (path.startsWith('/emulator/')) return control(engine, req, res, path, method);
  if (engine.status !== 'serving') {
    req.resume();
    sendJson(res, 503, openAiError(503, `The server is not ready yet (status: ${engine.status}).`));
    return;
  }
  if (path === '/v1/models' && method === 'GET') {
    return sendJson(res, 200, {
      object: 'list',
      data: [
        {
          id: engine.args.servedModelName,
          object: 'model',
          created: Math.floor(engine.startedAtMs / 1000),
          owned_by: 'sglang',
          root: engine.args.modelPath,
          max_model_len: engine.args.maxTotalTokens,
        },
      ],
    });
  }
  if (path === '/get_model_info' && method === 'GET') {
    return sendJson(res, 200, {
      model_path: engine.args.modelPath,
      tokenizer_path: engine.args.modelPath,
      is_generation: true,
      weight_version: 'default',
    });
  }
  if (path === '/get_server_info' && method === 'GET') return sendJson(res, 200, serverInfo(engine));
  if (path === '/v1/chat/completions') {
    if (method !== 'POST') return methodNotAllowed(res);
    const body = await readJsonBody(engine, req, res);
    if (body === undefined) return;
    return handleChatCompletion(engine, res, body.value, arrivalMs);
  }
  return notFound(res, path);
}

function isAuthorized(engine: Engine, req: http.IncomingMessage, path: string, method: string): boolean {
  const key = engine.args.apiKey;
  if (!key) return !path.startsWith('/emulator/');
  // SGLang leaves OPTIONS, /health* and /metrics open (add_api_key_middleware in sglang/srt/utils).
  if (method === 'OPTIONS' || path.startsWith('/health') || path.startsWith('/metrics')) return true;
  return req.headers.authorization === `Bearer ${key}`;
}

async function health(engine: Engine, res: http.ServerResponse): Promise<void> {
  if (engine.status !== 'serving') {
    res.writeHead(503).end();
    return;
  }
  const phases = engine.settings.config.phases;
  if (engine.hang === 'scheduler') {
    await delay(engine.scaled(phases.healthCheckTimeoutMs));
    engine.log.error(
      `Health check failed. Server couldn't get a response from detokenizer for last ${phases.healthCheckTimeoutMs / 1000} seconds.`,
    );
    if (!res.destroyed) res.writeHead(503).end();
    return;
  }
  await delay(engine.scaled(phases.healthGenerateMs));
  if (res.destroyed) return;
  if (engine.hang !== 'none' || engine.status !== 'serving') return health(engine, res);
  res.writeHead(200).end();
}

function serverInfo(engine: Engine): Record<string, unknown> {
  const a = engine.args;
  const serverArgs: Record<string, unknown> = {
    model_path: a.modelPath,
    served_model_name: a.servedModelName,
    host: a.host,
    port: a.port,
    tp_size: a.tp,
    ep_size: a.ep,
    trust_remote_code: a.trustRemoteCode,
    attention_backend: a.attentionBackend ?? null,
    nsa_decode_backend: a.nsaDecodeBackend ?? null,
    nsa_prefill_backend: a.nsaPrefillBackend ?? null,
    moe_runner_backend: a.moeRunnerBackend ?? 'auto',
    enable_flashinfer_allreduce_fusion: a.enableFlashinferAllreduceFusion,
    speculative_algorithm: a.speculativeAlgorithm ?? null,
    speculative_num_steps: a.speculativeNumSteps ?? null,
    speculative_eagle_topk: a.speculativeEagleTopk ?? null,
    speculative_num_draft_tokens: a.speculativeNumDraftTokens ?? null,
    mem_fraction_static: a.memFractionStatic,
    max_running_requests: a.maxRunningRequests,
    max_prefill_tokens: a.maxPrefillTokens,
    max_total_tokens: a.maxTotalTokens,
    watchdog_timeout: a.watchdogTimeoutS,
    enable_metrics: a.enableMetrics,
    tool_call_parser: a.toolCallParser ?? null,
    reasoning_parser: a.reasoningParser ?? null,
    kv_cache_dtype: a.kvCacheDtype,
    // SGLang echoes the key here; the emulator never returns secrets.
    api_key: a.apiKey === undefined ? null : '***',
  };
  return {
    ...serverArgs,
    max_total_num_tokens: a.maxTotalTokens,
    internal_states: [
      {
        avg_spec_accept_length: engine.isSpeculative ? engine.settings.config.timing.acceptLength : null,
        last_gen_throughput: 0,
        num_running_reqs: engine.scheduler.running,
        num_queue_reqs: engine.scheduler.queued,
      },
    ],
    version: VERSION,
    emulator: { gpu_type: engine.gpu.type, sm_arch: engine.gpu.smArch, time_scale: engine.settings.timeScale },
  };
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
        openAiError(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 'faults'),
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
      openAiError(
        400,
        "Unsupported Media Type: Only 'application/json' is allowed (header content-type)",
        'content-type',
      ),
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
    sendJson(res, 400, openAiError(400, `Malformed JSON body: ${(err as Error).message}`, 'body'));
    return undefined;
  }
}

function readBody(req: http.IncomingMessage, limitBytes: number): Promise<string> {
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

function notFound(res: http.ServerResponse, path: string): void {
  sendJson(res, 404, { detail: `Not Found: ${path}` });
}

function methodNotAllowed(res: http.ServerResponse): void {
  sendJson(res, 405, { detail: 'Method Not Allowed' });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
