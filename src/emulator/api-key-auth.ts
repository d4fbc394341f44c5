import { timingSafeEqual } from 'node:crypto';

/** One request as the API-key middleware sees it. */
export interface AuthCheck {
  method: string;
  path: string;
  authorization: string | undefined;
  apiKey: string | undefined;
  /** 0.5.2x also leaves `/ready*` open for probes. */
  exemptsReady: boolean;
}

/**
 * SGLang's `decide_request_auth` for normal endpoints (sglang/srt/utils/auth.py): OPTIONS and `/health*`,
 * `/metrics*` (and `/ready*` from 0.5.2x) always pass; with `--api-key` every other path, unknown ones included,
 * needs `Authorization: <scheme> <key>` whose scheme is "bearer" in any case. The emulator's own control routes
 * always need the key.
 */
export function isRequestAllowed(check: AuthCheck): boolean {
  if (check.path.startsWith('/emulator/'))
    return check.apiKey !== undefined && hasBearer(check.authorization, check.apiKey);
  if (check.method === 'OPTIONS') return true;
  if (check.path.startsWith('/health') || check.path.startsWith('/metrics')) return true;
  if (check.exemptsReady && check.path.startsWith('/ready')) return true;
  if (!check.apiKey) return true;
  return hasBearer(check.authorization, check.apiKey);
}

function hasBearer(header: string | undefined, key: string): boolean {
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space).toLowerCase() !== 'bearer') return false;
  const given = Buffer.from(header.slice(space + 1));
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The body every refused request gets (401, no CORS headers). */
export const UNAUTHORIZED_BODY = { error: 'Unauthorized' } as const;
