import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VERSION_HEADER } from '../../shared/version-header';

/** A request's claim on one engine; released when the response ends or the client goes away. */
export interface EngineLease {
  port: number;
  /** The app version the engine runs: sent back in the version header. */
  version: number;
  release(): void;
}

/** Either an engine to proxy to, or the status the router answers with itself (502 engine died, 503 none up). */
export type RouteDecision = { lease: EngineLease } | { status: number; message: string; version?: number };

/** What the router asks of its app: pick (or cold-start) an engine, and hear about bad gateways. */
export interface RouteTarget {
  /**
   * `signal` aborts when the client goes away, so a held request frees its slot (Modal cancels the input);
   * `pinnedVersion` (the version header of the request) places it on that version instead of the one serving.
   */
  route(signal?: AbortSignal, pinnedVersion?: number): Promise<RouteDecision>;
  /** Called for every 502 the router answers, so the app can count it. */
  onBadGateway(reason: string): void;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  VERSION_HEADER,
]);

function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

function answer(res: http.ServerResponse, status: number, message: string, version?: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { message, code: status } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(version === undefined ? {} : { [VERSION_HEADER]: String(version) }),
  });
  res.end(body);
}

/** The version a request pins itself to: undefined without the header, a message naming it when it is malformed. */
function pinnedVersionOf(req: http.IncomingMessage): number | undefined | { invalid: string } {
  const raw = req.headers[VERSION_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  const version = Number(text.trim());
  if (!Number.isInteger(version) || version < 1) {
    return { invalid: `header ${VERSION_HEADER} "${text}" is not a version number: send a positive integer such as 2` };
  }
  return version;
}

/**
 * An app's stable local endpoint, like a Modal web endpoint: each request is held until the app hands it an
 * engine, then streamed through unchanged (SSE chunks pass as they arrive). A loading engine's port refuses
 * connections (SGLang opens it after the load), so requests are held until the engine is ready, not sent to it; an
 * engine that refuses or drops a request after it was ready is dead, and that becomes a 502. Every answer names the
 * version that gave it in the version header, and a request carrying that header is placed on that version.
 */
export class AppRouter {
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 1_000 });

  constructor(private readonly target: RouteTarget) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    // Cold starts hold requests for minutes, as Modal's startup timeout does.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 60_000;
  }

  /**
   * Listens on 127.0.0.1 at the preferred port; when it is taken, on a free one instead.
   * Resolves with the port and whether the preferred one was taken, so the caller can report the move.
   */
  listen(preferredPort: number): Promise<{ port: number; wasPreferredTaken: boolean }> {
    const attempt = (port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        this.server.once('error', onError);
        this.server.listen(port, '127.0.0.1', () => {
          this.server.off('error', onError);
          resolve((this.server.address() as AddressInfo).port);
        });
      });
    return attempt(preferredPort).then(
      (port) => ({ port, wasPreferredTaken: false }),
      async (err: NodeJS.ErrnoException) => {
        if (preferredPort === 0 || (err.code !== 'EADDRINUSE' && err.code !== 'EACCES')) throw err;
        return { port: await attempt(0), wasPreferredTaken: true };
      },
    );
  }

  /** Stops accepting connections and drops idle upstream sockets. */
  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const clientGone = new AbortController();
    const onClientGone = (): void => clientGone.abort();
    res.once('close', onClientGone);
    const pinned = pinnedVersionOf(req);
    if (typeof pinned === 'object') {
      res.off('close', onClientGone);
      answer(res, 400, pinned.invalid);
      return;
    }
    let decision: RouteDecision;
    try {
      decision = await this.target.route(clientGone.signal, pinned);
    } catch (err) {
      answer(res, 500, `router: ${(err as Error).message}`);
      return;
    } finally {
      res.off('close', onClientGone);
    }
    if (clientGone.signal.aborted || res.destroyed) {
      // The client left while its request was held for a cold start: give the slot back, send nothing.
      if ('lease' in decision) decision.lease.release();
      return;
    }
    if (!('lease' in decision)) {
      if (decision.status === 502) this.target.onBadGateway(decision.message);
      answer(res, decision.status, decision.message, decision.version);
      return;
    }
    const { lease } = decision;
    let isReleased = false;
    const release = (): void => {
      if (isReleased) return;
      isReleased = true;
      lease.release();
    };
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: lease.port,
        method: req.method,
        path: req.url,
        headers: forwardHeaders(req.headers),
        agent: this.agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, {
          ...forwardHeaders(upstreamRes.headers),
          [VERSION_HEADER]: String(lease.version),
        });
        res.flushHeaders();
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
        // An engine killed mid-stream ends the response abruptly rather than as a clean end.
        upstreamRes.once('aborted', () => res.destroy());
      },
    );
    upstream.setNoDelay(true);
    upstream.once('error', (err) => {
      release();
      if (!res.headersSent) {
        const message = `engine on port ${lease.port} is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`;
        this.target.onBadGateway(message);
        answer(res, 502, `bad gateway: ${message}`, lease.version);
      } else {
        res.destroy();
      }
    });
    res.once('close', () => {
      release();
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
