import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { VERSION_HEADER } from '../shared/version-header';
import { ProbeTransportError } from './probe-errors';
import { probeFetch, readBodyText, redactSecret, type ProbeTarget } from './probe-target';

/**
 * What one GET /health said: `ok` (200), `starting` (503 during SGLang's own warm-up, or the connection refused:
 * real SGLang opens its port only after the model loaded, so a refused connection is how a loading engine looks),
 * `bad-gateway` (502, the platform router answers for a dead engine), `timeout` (nothing within the limit: a hung
 * engine), `error` (any other status or a broken connection).
 */
export type HealthOutcome = 'ok' | 'starting' | 'bad-gateway' | 'timeout' | 'error';

/** Every health outcome, in a stable order (for counts and reports). */
export const HEALTH_OUTCOMES: readonly HealthOutcome[] = ['ok', 'starting', 'bad-gateway', 'timeout', 'error'];

/** Result of one health probe. */
export interface HealthProbeResult {
  outcome: HealthOutcome;
  /** HTTP status when there was an answer. */
  status?: number;
  /**
   * True when nothing listened on the port (connection refused): `starting` for an engine that is loading. A caller
   * that knows the engine had served before (or whose process is gone) can read it as a dead engine instead.
   */
  isPortClosed?: boolean;
  latencyMs: number;
  /** One line for logs and failures; never contains the API key. */
  detail: string;
}

/** One GET /health, classified; never throws except when the caller's signal cancels it. */
export async function probeHealth(target: ProbeTarget): Promise<HealthProbeResult> {
  const startMs = performance.now();
  const elapsed = (): number => Math.round((performance.now() - startMs) * 10) / 10;
  try {
    const response = await probeFetch(target, '/health', { accept: '*/*' });
    const body = await readBodyText(response, target, 'GET', '/health');
    const snippet = redactSecret(body.trim().slice(0, 120), target.apiKey);
    const answeredBy = response.headers.get(VERSION_HEADER);
    if (target.version !== undefined && answeredBy !== null && answeredBy !== String(target.version)) {
      // Another version answered (a platform that still routes to the previous one): the candidate is not verified.
      return {
        outcome: 'starting',
        status: response.status,
        latencyMs: elapsed(),
        detail: `HTTP ${response.status} from v${answeredBy}, not v${target.version}: the new version does not serve yet`,
      };
    }
    const outcome = outcomeOfStatus(response.status);
    return {
      outcome,
      status: response.status,
      latencyMs: elapsed(),
      detail: `HTTP ${response.status}${snippet ? ` ${snippet}` : ''}`,
    };
  } catch (err) {
    if (!(err instanceof ProbeTransportError)) throw err;
    if (err.kind === 'refused') {
      return {
        outcome: 'starting',
        isPortClosed: true,
        latencyMs: elapsed(),
        detail: `${err.message}: the port is not open yet (SGLang binds it only after the model has loaded)`,
      };
    }
    return { outcome: err.kind, latencyMs: elapsed(), detail: err.message };
  }
}

function outcomeOfStatus(status: number): HealthOutcome {
  if (status === 200) return 'ok';
  if (status === 503) return 'starting';
  if (status === 502) return 'bad-gateway';
  return 'error';
}

/** Where a poll stands: what a heartbeat carries, and what a resumed poll continues from. */
export interface HealthPollProgress {
  /** The attempt in flight (or, after it ended, the last one). */
  attempt: number;
  /** Probes so far per outcome, the resumed poll's included; only outcomes seen (their names are the symptoms). */
  outcomes: Partial<Record<HealthOutcome, number>>;
}

/** Options of a health poll: a target plus cadence, an absolute deadline and where a resumed poll starts. */
export interface PollHealthOptions extends ProbeTarget {
  /** Pause between the end of one probe and the start of the next. */
  pollIntervalMs: number;
  /** Absolute deadline, in `Date.now()` milliseconds, so a resumed poll keeps the original one. */
  deadlineMs: number;
  /** Attempt number of the first probe (1 for a fresh poll; last heartbeat's attempt + 1 when resuming). @default 1 */
  startAttempt?: number;
  /** Outcome counts of the attempts before `startAttempt` (a resumed poll), so the counts cover the whole wait. */
  priorOutcomes?: Partial<Record<HealthOutcome, number>>;
  /**
   * Give the first probe its full `timeoutMs` even when the deadline is nearer or already passed: a resumed wait
   * asks the engine once more before it may time out, instead of ending on a probe cut to nothing. @default false
   */
  isFirstProbeUncut?: boolean;
  /** Called after every probe (the activity heartbeats and logs from here). */
  onAttempt?: (attempt: number, result: HealthProbeResult) => void | Promise<void>;
  /**
   * Called when a probe starts, every `progressIntervalMs` while it is in flight (a platform router may hold a probe
   * while it cold-starts the engine), and when it ended: an activity heartbeats from here.
   */
  onProgress?: (progress: HealthPollProgress) => void;
  /** @default 2000 */
  progressIntervalMs?: number;
  /** Ends the poll early when this returns true (e.g. several 502s in a row = the engine died). */
  shouldStop?: (attempt: number, result: HealthProbeResult) => boolean;
}

/** How a health poll ended. */
export interface PollHealthResult {
  /** `ok` when /health answered 200; `deadline` when time ran out; `stopped` when `shouldStop` ended it. */
  ending: 'ok' | 'deadline' | 'stopped';
  /** The attempt number of the last probe (the guide's "passed on attempt N"). */
  attempt: number;
  /** How many probes ended in each outcome (`priorOutcomes` included). */
  outcomeCounts: Record<HealthOutcome, number>;
  last: HealthProbeResult;
  elapsedMs: number;
}

/**
 * Probes /health until it answers 200, the deadline passes or `shouldStop` says so. It always probes at least once.
 * Each probe's own timeout is cut to the time left (but for an uncut first probe), so the poll never overruns the
 * deadline by more than one probe's latency.
 */
export async function pollHealth(options: PollHealthOptions): Promise<PollHealthResult> {
  if (!(options.pollIntervalMs >= 0)) {
    throw new RangeError(`pollIntervalMs ${options.pollIntervalMs} must be a number >= 0`);
  }
  const startMs = Date.now();
  const outcomeCounts = Object.fromEntries(HEALTH_OUTCOMES.map((o) => [o, options.priorOutcomes?.[o] ?? 0])) as Record<
    HealthOutcome,
    number
  >;
  const firstAttempt = options.startAttempt ?? 1;
  let attempt = firstAttempt - 1;
  const report = (): void => options.onProgress?.({ attempt, outcomes: seenOutcomes(outcomeCounts) });
  for (;;) {
    attempt += 1;
    const isUncut = options.isFirstProbeUncut === true && attempt === firstAttempt;
    const remainingMs = isUncut ? options.timeoutMs : Math.max(1, options.deadlineMs - Date.now());
    report();
    const keepReporting = options.onProgress ? setInterval(report, options.progressIntervalMs ?? 2_000) : undefined;
    const last = await probeHealth({ ...options, timeoutMs: Math.min(options.timeoutMs, remainingMs) }).finally(() =>
      clearInterval(keepReporting),
    );
    outcomeCounts[last.outcome] += 1;
    report();
    await options.onAttempt?.(attempt, last);
    const done = (ending: PollHealthResult['ending']): PollHealthResult => ({
      ending,
      attempt,
      outcomeCounts,
      last,
      elapsedMs: Date.now() - startMs,
    });
    if (last.outcome === 'ok') return done('ok');
    if (options.shouldStop?.(attempt, last)) return done('stopped');
    const leftMs = options.deadlineMs - Date.now();
    if (leftMs <= 0) return done('deadline');
    try {
      await sleep(Math.min(options.pollIntervalMs, leftMs), undefined, { signal: options.signal });
    } catch (err) {
      throw options.signal?.reason ?? err;
    }
  }
}

/** The outcomes seen at least once, with their counts. */
export function seenOutcomes(counts: Partial<Record<HealthOutcome, number>>): Partial<Record<HealthOutcome, number>> {
  return Object.fromEntries(HEALTH_OUTCOMES.filter((o) => (counts[o] ?? 0) > 0).map((o) => [o, counts[o]]));
}
