import * as z from 'zod';
import { ProbeHttpError, ProbeProtocolError } from './probe-errors';
import { probeFetch, readBodyText, type ProbeTarget } from './probe-target';

/** What glm-ops reads from SGLang's `/server_info`: these fields and nothing else. */
export interface EngineInfo {
  /** The SGLang release serving (`version`), e.g. "0.5.17". */
  version: string;
  servedModelName: string | null;
  /** `speculative_algorithm` (e.g. "EAGLE"), null without speculative decoding. */
  speculativeAlgorithm: string | null;
  /** Measured EAGLE accept length (`internal_states[0].avg_spec_accept_length`); null until a verify step ran. */
  avgSpecAcceptLength: number | null;
}

// Only the picked fields are described; every other key (among them `api_key`, which SGLang returns in plain
// text with every other server argument) is never copied out of the parsed body.
const PICKED = z.object({
  version: z.string().min(1),
  served_model_name: z.string().nullish(),
  speculative_algorithm: z.string().nullish(),
  internal_states: z.array(z.object({ avg_spec_accept_length: z.number().nullish() })).nullish(),
});

/**
 * Reads the engine's release and measured accept length from `/server_info` (`/get_server_info` on releases
 * without it), picking the fields one by one. The raw body never leaves this function: errors name the path and the
 * missing field, not what the server sent, because the body carries the API key.
 */
export async function readEngineInfo(target: ProbeTarget): Promise<EngineInfo> {
  let path = '/server_info';
  let response = await probeFetch(target, path);
  if (response.status === 404) {
    await readBodyText(response, target, 'GET', path).catch(() => '');
    path = '/get_server_info';
    response = await probeFetch(target, path);
  }
  const text = await readBodyText(response, target, 'GET', path);
  if (!response.ok) throw new ProbeHttpError('GET', path, response.status, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProbeProtocolError('GET', path, 'reply is not JSON');
  }
  const picked = PICKED.safeParse(json);
  if (!picked.success) {
    const fields = [...new Set(picked.error.issues.map((issue) => issue.path.join('.') || '(body)'))];
    throw new ProbeProtocolError('GET', path, `not an SGLang server_info reply (bad or missing: ${fields.join(', ')})`);
  }
  const accept = picked.data.internal_states?.[0]?.avg_spec_accept_length;
  return {
    version: picked.data.version,
    servedModelName: picked.data.served_model_name ?? null,
    speculativeAlgorithm: picked.data.speculative_algorithm ?? null,
    avgSpecAcceptLength: typeof accept === 'number' ? accept : null,
  };
}
