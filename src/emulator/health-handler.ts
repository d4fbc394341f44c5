import type * as http from 'node:http';
import type { Engine } from './engine';
import type { EngineStatus } from './engine-status';
import { EXIT_LINES } from './engine-exit';

// The recorded empty answers carry these (uvicorn adds `server`, SGLang's CORS middleware `vary`).
const EMPTY_HEADERS = { 'content-length': 0, vary: 'Origin' };

/**
 * `GET /health` and `/health_generate` as real SGLang answers them (recorded 2026-12-01): an empty 503 during its own
 * warm-up; once serving, a 1-token generation (SGLang's loop sleeps 1 s before it checks) and an empty 200 (not
 * counted in `num_requests_total`, as the recorded metrics show); after SIGTERM an empty 503 with `Health check request received during shutdown`; a
 * wedged scheduler answers 503 only after SGLANG_HEALTH_CHECK_TIMEOUT; a process that hangs answers nothing.
 */
export async function handleHealth(engine: Engine, res: http.ServerResponse): Promise<void> {
  if (engine.status === 'draining') {
    engine.log.info(EXIT_LINES.healthDuringShutdown);
    res.writeHead(503, EMPTY_HEADERS).end();
    return;
  }
  if (engine.status !== 'serving') {
    res.writeHead(503, EMPTY_HEADERS).end();
    return;
  }
  const phases = engine.settings.config.phases;
  if (engine.hang === 'scheduler') {
    await delay(engine.scaled(phases.healthCheckTimeoutMs));
    engine.log.error(
      `Health check failed. Server couldn't get a response from detokenizer for last ${phases.healthCheckTimeoutMs / 1000} seconds.`,
    );
    if (!res.destroyed) res.writeHead(503, EMPTY_HEADERS).end();
    return;
  }
  engine.logPrefillBatch(1, 0, engine.scaled(phases.healthGenerateMs) / 1000);
  await delay(engine.scaled(phases.healthGenerateMs));
  // The status may have moved on while the 1-token generation ran (read it afresh, not narrowed).
  const now: EngineStatus = statusOf(engine);
  if (res.destroyed || engine.hang !== 'none' || now === 'crashing' || now === 'dead') return;
  if (now !== 'serving') return handleHealth(engine, res);
  res.writeHead(200, EMPTY_HEADERS).end();
}

function statusOf(engine: Engine): EngineStatus {
  return engine.status;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
