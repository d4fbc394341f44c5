import * as http from 'node:http';
import { freePort } from '../../src/net/free-port';

/** One POST the receiver saw, with what it answered (undefined: it never answered). */
export interface ReceivedPost {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status?: number;
}

/**
 * How the receiver answers: a status per POST (`hang`: never answer), from the count of POSTs it saw before and
 * how many of them carried the same idempotency key.
 */
export type Answer = (post: { index: number; path: string; key: string; sameKeyBefore: number }) => number | 'hang';

/**
 * A real webhook receiver (node:http on a free port of its own) that records every POST. It may start down (`start:
 * false`): its URL is known, nothing listens until `listen()`, as a receiver that is restarting.
 */
export interface NotifyReceiver {
  /** The URL with a secret-looking path, as a Slack incoming webhook's (its token is the path). */
  url: string;
  posts: ReceivedPost[];
  /** POSTs answered 2xx, one per idempotency key: what a receiver that dedupes by the key delivered. */
  deliveredByKey(): Map<string, ReceivedPost[]>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

export async function startNotifyReceiver(
  options: { answer?: Answer; start?: boolean; token?: string } = {},
): Promise<NotifyReceiver> {
  const answer = options.answer ?? (() => 200);
  const token = options.token ?? `T0TEST/B0TEST/${Math.random().toString(36).slice(2)}secret`;
  const posts: ReceivedPost[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* recorded as text */
      }
      const post: ReceivedPost = { path: req.url ?? '', headers: req.headers, body };
      const key = String(req.headers['idempotency-key'] ?? '');
      const sameKeyBefore = posts.filter((p) => p.headers['idempotency-key'] === key).length;
      const status = answer({ index: posts.length, path: post.path, key, sameKeyBefore });
      posts.push(post);
      if (status === 'hang') return;
      post.status = status;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try later');
    });
  });
  const port = await freePort();
  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  if (options.start !== false) await listen();
  return {
    url: `http://127.0.0.1:${port}/services/${token}`,
    posts,
    deliveredByKey() {
      const byKey = new Map<string, ReceivedPost[]>();
      for (const post of posts) {
        if (post.status === undefined || post.status >= 300) continue;
        const key = String(post.headers['idempotency-key']);
        byKey.set(key, [...(byKey.get(key) ?? []), post]);
      }
      return byKey;
    },
    listen,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
