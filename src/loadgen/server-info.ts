import { Pool, type Dispatcher } from 'undici';
import * as z from 'zod';
import { BenchOptionsError, resolveTarget } from './bench-target';

const ServerInfo = z.looseObject({
  internal_states: z.array(z.looseObject({ avg_spec_accept_length: z.number().nullish() })).nullish(),
  decode: z.array(z.unknown()).nullish(),
});

/**
 * The speculative decoder's average accept length, read where bench_serving reads it: `/server_info` (else the
 * older `/get_server_info`) → `internal_states[0].avg_spec_accept_length`, the first decode worker's under PD
 * disaggregation. Null when the server does not say (no speculative decoding, not SGLang, not reachable).
 */
export async function readAcceptLength(
  pool: Dispatcher,
  rootPath: string,
  headers: Record<string, string>,
): Promise<number | null> {
  for (const path of ['/server_info', '/get_server_info']) {
    try {
      const response = await pool.request({ path: `${rootPath}${path}`, method: 'GET', headers });
      if (response.statusCode !== 200) {
        await response.body.dump();
        continue;
      }
      let parsed = ServerInfo.safeParse(await response.body.json());
      if (parsed.success && parsed.data.decode?.[0]) parsed = ServerInfo.safeParse(parsed.data.decode[0]);
      if (!parsed.success) return null;
      const value = parsed.data.internal_states?.[0]?.avg_spec_accept_length;
      return typeof value === 'number' && value > 0 ? value : null;
    } catch {
      continue;
    }
  }
  return null;
}

const ModelList = z.looseObject({ data: z.array(z.looseObject({ id: z.string() })).min(1) });

/** The first model `/v1/models` lists: the served name, as bench_serving picks it when `--model` is not given. */
export async function servedModel(baseUrl: string, apiKey?: string): Promise<string> {
  const { origin, rootPath } = resolveTarget(baseUrl);
  const pool = new Pool(origin, { connections: 1 });
  try {
    const response = await pool.request({
      path: `${rootPath}/v1/models`,
      method: 'GET',
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new BenchOptionsError(`GET /v1/models answered HTTP ${response.statusCode}: pass --model`);
    }
    const parsed = ModelList.safeParse(JSON.parse(text));
    if (!parsed.success) throw new BenchOptionsError('GET /v1/models listed no model: pass --model');
    return parsed.data.data[0]!.id;
  } catch (err) {
    if (err instanceof BenchOptionsError) throw err;
    throw new BenchOptionsError(`GET /v1/models failed (${(err as Error).message}): is the server up?`);
  } finally {
    await pool.close();
  }
}
