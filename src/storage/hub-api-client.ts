import { request } from 'undici';
import * as z from 'zod';
import { HubTransportError, WeightsNotFoundError } from './storage-errors';

/** One file of a repo as the Hub lists it (`siblings[]` of the model-info API). */
export const HubSibling = z.object({
  rfilename: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  blobId: z.string().optional(),
  lfs: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).optional(),
});
export type HubSibling = z.infer<typeof HubSibling>;

/** The part of `GET /api/models/{repo}/revision/{revision}` that snapshot downloads need. */
export const HubModelInfo = z.object({
  id: z.string(),
  sha: z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-hex commit sha'),
  siblings: z.array(HubSibling),
});
export type HubModelInfo = z.infer<typeof HubModelInfo>;

/** Where and how to reach a Hugging Face–compatible hub; the token is sent, never logged. */
export interface HubConnection {
  /** Base URL like `https://huggingface.co` (`HF_ENDPOINT`). */
  endpoint: string;
  /** Bearer token (`HF_TOKEN`), optional for public repos. */
  token?: string;
}

/** Hub connection settings from the environment, as huggingface_hub reads them. */
export function hubConnectionFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fallbackEndpoint = 'https://huggingface.co',
): HubConnection {
  const endpoint = env.HF_ENDPOINT?.trim() || fallbackEndpoint;
  const token = env.HF_TOKEN?.trim() || undefined;
  return token ? { endpoint, token } : { endpoint };
}

/** Request headers for the hub, with the Authorization header only when a token is set. */
export function hubHeaders(connection: HubConnection, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'user-agent': 'glm-ops',
    ...(connection.token ? { authorization: `Bearer ${connection.token}` } : {}),
    ...extra,
  };
}

/** URL of a file at a revision (`resolve/<revision>/<path>`), path segments encoded. */
export function resolveUrl(connection: HubConnection, repo: string, revision: string, filePath: string): string {
  const encodedPath = filePath.split('/').map(encodeURIComponent).join('/');
  return `${trimSlash(connection.endpoint)}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
}

/** Seconds to wait from a Retry-After header (delta seconds or HTTP date), capped; undefined when absent. */
export function retryAfterMs(header: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const dateMs = Date.parse(value);
  return Number.isFinite(dateMs) ? Math.max(0, dateMs - nowMs) : undefined;
}

/** Options for {@link fetchModelInfo}. */
export interface FetchModelInfoOptions {
  attempts?: number;
  /** Upper bound on one wait between attempts (Retry-After is honoured up to this). */
  maxBackoffMs?: number;
  signal?: AbortSignal;
}

/**
 * Lists a repo at a revision and pins it to a commit sha. 404/401/403 become a non-retryable
 * {@link WeightsNotFoundError}; 429/5xx and network errors are retried, then raise {@link HubTransportError}.
 */
export async function fetchModelInfo(
  connection: HubConnection,
  repo: string,
  revision: string,
  options: FetchModelInfoOptions = {},
): Promise<HubModelInfo> {
  const url = `${trimSlash(connection.endpoint)}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const attempts = options.attempts ?? 5;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  let lastError: HubTransportError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let waitMs = Math.min(maxBackoffMs, 100 * 2 ** attempt);
    try {
      const response = await request(url, { headers: hubHeaders(connection), signal: options.signal });
      const text = await response.body.text();
      if (response.statusCode === 200) {
        const parsed = HubModelInfo.safeParse(JSON.parse(text));
        if (!parsed.success)
          throw new HubTransportError(url, `unexpected model info: ${z.prettifyError(parsed.error)}`, 200);
        return parsed.data;
      }
      if ([401, 403, 404].includes(response.statusCode)) {
        throw new WeightsNotFoundError(repo, revision, response.statusCode, hubErrorMessage(text));
      }
      lastError = new HubTransportError(url, `HTTP ${response.statusCode}`, response.statusCode);
      if (response.statusCode < 500 && response.statusCode !== 429) throw lastError;
      const retryAfter = retryAfterMs(response.headers['retry-after']);
      if (retryAfter !== undefined) waitMs = Math.min(maxBackoffMs, retryAfter);
    } catch (err) {
      if (err instanceof WeightsNotFoundError || options.signal?.aborted) throw err;
      if (err instanceof HubTransportError && err.status !== undefined && err.status < 500 && err.status !== 429)
        throw err;
      lastError = err instanceof HubTransportError ? err : new HubTransportError(url, (err as Error).message);
    }
    if (attempt < attempts) await sleepMs(waitMs, options.signal);
  }
  throw lastError ?? new HubTransportError(url, 'no attempt made');
}

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function sleepMs(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function hubErrorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : '';
  } catch {
    return '';
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
