import * as http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { DomainError } from '../../shared/domain-error';
import { ErrorType } from '../../shared/errors';
import { LocalPlatformError, SpecRefusedError, statusForError, type WireError } from './local-platform-errors';
import type { DaemonInfo, PlatformDaemon } from './platform-daemon';

const DeployBody = z.object({
  spec: z.unknown(),
  rolloutId: z.string().min(1).max(200),
  isTrial: z.boolean().optional(),
});
const RollbackBody = z.object({ version: z.number().int().positive() });
const VerifiedBody = z.object({ version: z.number().int().positive() });
const MinContainersBody = z.object({ minContainers: z.number().int().min(0).max(100) });
const MAX_BODY_BYTES = 1024 * 1024;

class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

function isAuthorized(req: http.IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequestError('request body is not JSON');
  }
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BadRequestError(z.prettifyError(parsed.error));
  return parsed.data;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const error = err as Error;
  const wire: WireError = {
    name: error.name ?? 'Error',
    errorType: err instanceof DomainError ? err.errorType : ErrorType.TransportError,
    message: error.message ?? String(err),
  };
  const status = err instanceof BadRequestError ? 400 : statusForError(err);
  send(res, status, { error: wire });
}

/**
 * The daemon's control API on 127.0.0.1, every route behind the bearer token from the state folder.
 * Bodies carry specs (which name secrets) and never secret values.
 */
export class ControlApi {
  private readonly server: http.Server;
  private info: DaemonInfo | undefined;

  constructor(
    private readonly daemon: PlatformDaemon,
    private readonly token: string,
    private readonly onShutdown: () => void,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => sendError(res, err));
    });
  }

  /** Listens on the preferred port when free (so the address survives restarts), else on any; publishes it. */
  async listen(preferredPort = 0): Promise<DaemonInfo> {
    const attempt = (port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, '127.0.0.1', () => {
          this.server.off('error', reject);
          resolve((this.server.address() as AddressInfo).port);
        });
      });
    const port = await attempt(preferredPort).catch(() => attempt(0));
    this.info = this.daemon.publish(`http://127.0.0.1:${port}`);
    return this.info;
  }

  /** Stops answering. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!isAuthorized(req, this.token)) {
      send(res, 401, {
        error: {
          name: 'Unauthorized',
          errorType: ErrorType.PlatformUnavailable,
          message: 'missing or wrong bearer token',
        },
      });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    if (url.pathname === '/v1/status' && method === 'GET') return send(res, 200, this.daemon.status(this.info!));
    if (url.pathname === '/v1/shutdown' && method === 'POST') {
      send(res, 202, { ok: true });
      this.onShutdown();
      return;
    }
    const match = /^\/v1\/apps\/([^/]+)\/([a-z-]+)$/.exec(url.pathname);
    if (!match)
      return send(res, 404, {
        error: { name: 'NotFoundError', errorType: ErrorType.NotFound, message: `no route ${method} ${url.pathname}` },
      });
    const app = decodeURIComponent(match[1]!);
    const action = `${method} ${match[2]}`;
    switch (action) {
      case 'POST deploy': {
        const body = await readJson(req);
        const parsed = DeployBody.safeParse(body);
        if (!parsed.success) throw new SpecRefusedError(`deploy refused: ${z.prettifyError(parsed.error)}`);
        const spec = parsed.data.spec as { app?: unknown } | undefined;
        if (spec?.app !== app)
          throw new SpecRefusedError(
            `deploy refused: spec.app "${String(spec?.app)}" does not match the route's app "${app}"`,
          );
        return send(
          res,
          200,
          await this.daemon.deploy(parsed.data.spec, parsed.data.rolloutId, { isTrial: parsed.data.isTrial === true }),
        );
      }
      case 'GET current':
        return send(res, 200, { deployment: this.daemon.currentDeployment(app) });
      case 'GET history':
        return send(res, 200, { deployments: this.daemon.history(app) });
      case 'POST rollback':
        return send(res, 200, await this.daemon.rollback(app, parseBody(RollbackBody, await readJson(req)).version));
      case 'POST stop':
        await this.daemon.stop(app);
        return send(res, 200, { ok: true });
      case 'GET endpoint':
        return send(res, 200, this.daemon.endpoint(app));
      case 'GET logs': {
        const since = url.searchParams.get('since') ?? undefined;
        const limitText = url.searchParams.get('limit');
        const limit = limitText ? Number(limitText) : undefined;
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
          throw new BadRequestError(`limit "${limitText}" must be a whole number`);
        try {
          return send(res, 200, { lines: this.daemon.logs(app, { since, limit }) });
        } catch (err) {
          if (err instanceof LocalPlatformError) throw err;
          throw new BadRequestError((err as Error).message);
        }
      }
      case 'POST verified':
        await this.daemon.markVerified(app, parseBody(VerifiedBody, await readJson(req)).version);
        return send(res, 200, { ok: true });
      case 'GET verified': {
        const excludingText = url.searchParams.get('excluding');
        const excluding = excludingText === null ? undefined : Number(excludingText);
        if (excluding !== undefined && (!Number.isInteger(excluding) || excluding < 1))
          throw new BadRequestError(`excluding "${excludingText}" must be a version number (1 or more)`);
        return send(res, 200, { deployment: this.daemon.lastVerified(app, { excluding }) });
      }
      case 'POST min-containers':
        this.daemon.setMinContainers(app, parseBody(MinContainersBody, await readJson(req)).minContainers);
        return send(res, 200, { ok: true });
      default:
        return send(res, 404, {
          error: {
            name: 'NotFoundError',
            errorType: ErrorType.NotFound,
            message: `no route ${method} ${url.pathname}`,
          },
        });
    }
  }
}
