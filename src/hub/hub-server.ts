import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { once } from 'node:events';
import { Readable, Transform } from 'node:stream';
import { FaultBook, type HubFaultPlan } from './hub-faults';
import { loadHubManifest, type FixtureFile, type FixtureManifest } from './fixture-checkpoint';

/** Options of {@link startHub}. */
export interface HubOptions {
  /** A folder written by `writeFixtureCheckpoint` (or any folder; it is hashed on start). */
  fixtureDir: string;
  /** Repo id to serve the fixture as, when the folder has no manifest. */
  repo?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  faults?: HubFaultPlan;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

/** One request the hub answered, for tests and benchmarks. */
export interface HubRequestRecord {
  method: string;
  /** Repo path of the file, or `api` for model info. */
  file: string;
  rangeStart: number;
  status: number;
  /** A fault that shaped this response. */
  fault?: string;
}

/** A running local hub. */
export interface RunningHub {
  url: string;
  manifest: FixtureManifest;
  requests: HubRequestRecord[];
  /** Replaces the fault plan (counts restart). */
  setFaults(faults: HubFaultPlan): void;
  close(): Promise<void>;
}

/**
 * Starts a Hugging Face–compatible hub serving one fixture repo through the subset snapshot downloads use:
 * `GET /api/models/{repo}/revision/{revision}` and `GET|HEAD /{repo}/resolve/{revision}/{path}` with Range,
 * `X-Repo-Commit` and `ETag`, plus injected faults.
 */
export async function startHub(options: HubOptions): Promise<RunningHub> {
  const manifest = await loadHubManifest(options.fixtureDir, options.repo);
  const filesByPath = new Map(manifest.files.map((file) => [file.path, file]));
  let faults = new FaultBook(options.faults ?? []);
  const requests: HubRequestRecord[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const record = (file: string, status: number, rangeStart = 0, fault?: string): void => {
      requests.push({ method: req.method ?? 'GET', file, rangeStart, status, ...(fault ? { fault } : {}) });
    };
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      record(url.pathname, 401);
      return sendJson(res, 401, { error: 'Invalid credentials in Authorization header' });
    }
    if (segments[0] === 'api' && segments[1] === 'models' && segments[4] === 'revision' && segments.length >= 6) {
      const repo = `${segments[2]}/${segments[3]}`;
      const revision = segments.slice(5).join('/');
      const throttled = faults.take('status', null);
      if (throttled) {
        record('api', throttled.status, 0, 'status');
        return sendStatusFault(res, throttled.status, throttled.retryAfterSeconds);
      }
      if (repo !== manifest.repo) {
        record('api', 404);
        return sendJson(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      }
      if (!resolvesToCommit(manifest, revision)) {
        record('api', 404);
        return sendJson(res, 404, { error: `Invalid rev id: ${revision}` }, { 'x-error-code': 'RevisionNotFound' });
      }
      record('api', 200);
      return sendJson(res, 200, {
        id: manifest.repo,
        modelId: manifest.repo,
        sha: manifest.commit,
        siblings: manifest.files.map((file) => ({
          rfilename: file.path,
          size: file.sizeBytes,
          blobId: file.gitBlobId,
          ...(file.isLfs ? { lfs: { sha256: file.sha256, size: file.sizeBytes, pointerSize: 134 } } : {}),
        })),
      });
    }
    if (segments[2] === 'resolve' && segments.length >= 5) {
      const repo = `${segments[0]}/${segments[1]}`;
      const revision = segments[3]!;
      const filePath = segments.slice(4).join('/');
      const file = filesByPath.get(filePath);
      if (repo !== manifest.repo || !resolvesToCommit(manifest, revision)) {
        record(filePath, 404);
        return sendJson(res, 404, { error: 'Revision Not Found' }, { 'x-error-code': 'RevisionNotFound' });
      }
      if (!file) {
        record(filePath, 404);
        return sendJson(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
      }
      return serveFile(req, res, file, record);
    }
    record(url.pathname, 404);
    sendJson(res, 404, { error: 'Not found' });
  }

  async function serveFile(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    file: FixtureFile,
    record: (file: string, status: number, rangeStart?: number, fault?: string) => void,
  ): Promise<void> {
    const range = parseRange(req.headers.range, file.sizeBytes);
    if (range === 'unsatisfiable') {
      record(file.path, 416, 0);
      res.writeHead(416, { 'content-range': `bytes */${file.sizeBytes}` });
      return void res.end();
    }
    const start = range?.start ?? 0;
    const throttled = faults.take('status', file.path);
    if (throttled) {
      record(file.path, throttled.status, start, 'status');
      return sendStatusFault(res, throttled.status, throttled.retryAfterSeconds);
    }
    const end = range?.end ?? file.sizeBytes - 1;
    const etag = `"${file.isLfs ? file.sha256 : file.gitBlobId}"`;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'content-length': Math.max(0, end - start + 1),
      etag,
      'x-repo-commit': manifest.commit,
      ...(file.isLfs ? { 'x-linked-etag': etag, 'x-linked-size': file.sizeBytes } : {}),
    };
    const status = range ? 206 : 200;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${file.sizeBytes}`;
    if (req.method === 'HEAD') {
      record(file.path, status, start);
      res.writeHead(status, headers);
      return void res.end();
    }
    const drop = faults.take('drop', file.path);
    const dropAt = drop ? Math.floor(drop.atFraction * file.sizeBytes) : undefined;
    const shouldDrop = dropAt !== undefined && dropAt >= start && dropAt <= end;
    const wrong = faults.take('wrongBytes', file.path);
    const slow = faults.peek('slow', file.path);
    record(
      file.path,
      status,
      start,
      [shouldDrop && 'drop', wrong && 'wrongBytes', slow && 'slow'].filter(Boolean).join(',') || undefined,
    );
    res.writeHead(status, headers);
    if (file.sizeBytes === 0 || end < start) return void res.end();
    const readEnd = shouldDrop ? Math.max(start, dropAt) - 1 : end;
    let source: Readable =
      readEnd >= start
        ? fs.createReadStream(path.join(options.fixtureDir, file.path), { start, end: readEnd, highWaterMark: 1 << 20 })
        : Readable.from([]);
    if (wrong) source = source.pipe(flipBytes(start));
    if (slow) source = source.pipe(throttle(slow.bytesPerSec));
    try {
      for await (const chunk of source) {
        if (!res.write(chunk)) await once(res, 'drain');
      }
    } catch {
      res.destroy();
      return;
    }
    // A dropped link: the client has fewer bytes than Content-Length promised and sees the socket close.
    if (shouldDrop) res.socket?.destroy();
    else res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    manifest,
    requests,
    setFaults(plan) {
      faults = new FaultBook(plan);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function resolvesToCommit(manifest: FixtureManifest, revision: string): boolean {
  return revision === manifest.commit || manifest.revisions.includes(revision);
}

/** Range start/end (inclusive) for `bytes=a-`, `bytes=a-b` or `bytes=-n`; null without a Range header. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(size - 1, Number(match[2]));
  }
  return start >= size || start > end ? 'unsatisfiable' : { start, end };
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendStatusFault(res: http.ServerResponse, status: number, retryAfterSeconds: number | undefined): void {
  sendJson(
    res,
    status,
    { error: status === 429 ? 'Too Many Requests' : 'Service Unavailable' },
    retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {},
  );
}

/** Flips one byte every 64 KiB of the file, keeping the length, so only a hash check can tell. */
function flipBytes(startOffset: number): Transform {
  let position = startOffset;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const copy = Buffer.from(chunk);
      for (let index = 0; index < copy.length; index++) {
        if ((position + index) % 65_536 === 1000) copy[index] = copy[index]! ^ 0xff;
      }
      position += copy.length;
      callback(null, copy);
    },
  });
}

/** Paces a stream to about `bytesPerSec`, in slices of ~50 ms. */
function throttle(bytesPerSec: number): Transform {
  const startedMs = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const slice = Math.max(1, Math.floor(bytesPerSec / 20));
      const push = (offset: number): void => {
        if (offset >= chunk.length) return callback();
        const part = chunk.subarray(offset, offset + slice);
        sent += part.length;
        this.push(part);
        const dueMs = startedMs + (sent * 1000) / bytesPerSec;
        setTimeout(() => push(offset + part.length), Math.max(0, dueMs - Date.now()));
      };
      push(0);
    },
  });
}
