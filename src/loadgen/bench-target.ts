/** Options that cannot describe a run; the message names the option and why. */
export class BenchOptionsError extends Error {
  override readonly name = 'BenchOptionsError';
}

/** The origin to pool connections on, the chat path and the server root (where `/server_info` is). */
export function resolveTarget(baseUrl: string): { origin: string; chatPath: string; rootPath: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new BenchOptionsError(`baseUrl ${JSON.stringify(baseUrl)} is not a URL (e.g. http://127.0.0.1:30000/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BenchOptionsError(`baseUrl ${JSON.stringify(baseUrl)} must be http:// or https://`);
  }
  const base = url.pathname.replace(/\/+$/, '');
  const apiBase = base.endsWith('/v1') ? base : `${base}/v1`;
  return { origin: url.origin, chatPath: `${apiBase}/chat/completions`, rootPath: apiBase.slice(0, -'/v1'.length) };
}
