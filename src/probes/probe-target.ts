import { VERSION_HEADER } from '../shared/version-header';
import { ProbeHttpError, ProbeTransportError, type TransportFailureKind } from './probe-errors';

/** Where and how to reach a serving endpoint; the same shape for every probe. */
export interface ProbeTarget {
  /** Base URL of the endpoint, e.g. `http://127.0.0.1:30000` or `https://app.modal.run`. */
  baseUrl: string;
  /** Sent only as `Authorization: Bearer …`; never copied into errors or results. */
  apiKey?: string;
  /** Limit for one request, body included. */
  timeoutMs: number;
  /** Cancels the request; the signal's reason is rethrown as is (e.g. an activity's CancelledFailure). */
  signal?: AbortSignal;
  /**
   * The app version the probe checks (a rollout's candidate): sent in the version header, so the local platform's
   * router places the request on that version even while the previous one still serves users; Modal ignores it.
   */
  version?: number;
}

/** Options of one probe request. */
export interface ProbeRequestInit {
  method?: 'GET' | 'POST';
  /** JSON-serialised as the body. */
  json?: unknown;
  /** Send no Authorization header even when the target has a key (the "refused without key" check). */
  shouldOmitApiKey?: boolean;
  accept?: string;
}

/** Replaces every occurrence of the secret in a text, so bodies and error messages can be shown safely. */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join('***');
}

/** Joins the base URL and a path without doubling or dropping the slash. */
export function endpointUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * One HTTP request to the endpoint with the target's timeout, cancellation and auth. Transport failures become
 * `ProbeTransportError`; a cancelled caller gets its signal's reason back. The response status is not checked.
 */
export async function probeFetch(target: ProbeTarget, path: string, init: ProbeRequestInit = {}): Promise<Response> {
  const method = init.method ?? 'GET';
  const timeout = AbortSignal.timeout(Math.max(1, target.timeoutMs));
  const signal = target.signal ? AbortSignal.any([target.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
  if (target.apiKey && !init.shouldOmitApiKey) headers.authorization = `Bearer ${target.apiKey}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (target.version !== undefined) headers[VERSION_HEADER] = String(target.version);
  try {
    return await fetch(endpointUrl(target.baseUrl, path), {
      method,
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal,
    });
  } catch (err) {
    throw toTransportError(err, target, method, path);
  }
}

/** Reads a response body as text under the target's timeout, mapping a stall or reset to `ProbeTransportError`. */
export async function readBodyText(
  response: Response,
  target: ProbeTarget,
  method: string,
  path: string,
): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    throw toTransportError(err, target, method, path);
  }
}

/** Turns a fetch failure into the probe vocabulary (or rethrows the caller's cancellation). */
export function toTransportError(err: unknown, target: ProbeTarget, method: string, path: string): unknown {
  if (target.signal?.aborted) return target.signal.reason ?? err;
  const kind = classifyTransportFailure(err);
  const detail =
    kind === 'timeout'
      ? `no answer within ${target.timeoutMs} ms`
      : kind === 'refused'
        ? `connection refused at ${redactSecret(target.baseUrl, target.apiKey)}`
        : `connection failed (${describeCause(err)})`;
  return new ProbeTransportError(method, path, kind, redactSecret(detail, target.apiKey));
}

/** Raises `ProbeHttpError` for a non-2xx answer, with the OpenAI error body's message. */
export async function ensureOk(response: Response, target: ProbeTarget, method: string, path: string): Promise<void> {
  if (response.ok) return;
  const text = await readBodyText(response, target, method, path).catch(() => '');
  throw new ProbeHttpError(method, path, response.status, redactSecret(openAiErrorMessage(text), target.apiKey));
}

/** The `message` of an OpenAI-shaped error body (`{message}`, `{error: {message}}` or `{error: "..."}`), else the raw start. */
export function openAiErrorMessage(bodyText: string): string {
  try {
    const body = JSON.parse(bodyText) as Record<string, unknown>;
    const nested = body.error;
    if (typeof body.message === 'string') return body.message;
    if (nested && typeof nested === 'object' && typeof (nested as Record<string, unknown>).message === 'string') {
      return (nested as Record<string, string>).message as string;
    }
    if (typeof nested === 'string') return nested;
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return bodyText.trim().slice(0, 200);
}

function classifyTransportFailure(err: unknown): TransportFailureKind {
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const code = causeCode(err);
  if (code === 'ECONNREFUSED') return 'refused';
  return 'error';
}

function causeCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeCause(err: unknown): string {
  const code = causeCode(err);
  const cause = (err as { cause?: { message?: string } } | undefined)?.cause;
  return code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
