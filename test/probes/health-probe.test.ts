import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollHealth, probeHealth } from '../../src/probes/health-probe';
import { VERSION_HEADER } from '../../src/shared/version-header';
import { readTimeline } from '../helpers/sglang-recordings';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function distinct(values: string[]): string[] {
  return values.filter((value, i) => i === 0 || values[i - 1] !== value);
}

/** What the recorder's /health poll saw from spawn to the first 200, as distinct phases. */
function recordedHealthPhases(run: string): string[] {
  const seen: string[] = [];
  for (const event of readTimeline(run)) {
    if (event.kind !== 'POLL' || !event.text.startsWith('/health ->')) continue;
    const answer = event.text.slice('/health -> '.length);
    seen.push(answer === 'refused' ? 'refused' : (/^HTTP (\d+)/.exec(answer)?.[1] ?? answer));
    if (answer.startsWith('HTTP 200')) break;
  }
  return distinct(seen);
}

/** A port that was just free: nothing listens there. */
async function closedPortUrl(): Promise<string> {
  const server = await listen(() => undefined);
  await server.close();
  return server.url;
}

describe('probeHealth classifies one GET /health', () => {
  test('a probe for a version sends it, and a 200 from another version is not ok (the candidate does not serve)', async () => {
    const seen: Array<string | undefined> = [];
    const server = await listen((req, res) => {
      seen.push(req.headers[VERSION_HEADER] as string | undefined);
      res.writeHead(200, { [VERSION_HEADER]: '1' });
      res.end();
    });
    try {
      const other = await probeHealth({ baseUrl: server.url, timeoutMs: 15_000, version: 2 });
      expect(other).toMatchObject({ outcome: 'starting', status: 200 });
      expect(other.detail).toContain('from v1, not v2');
      expect(await probeHealth({ baseUrl: server.url, timeoutMs: 15_000, version: 1 })).toMatchObject({
        outcome: 'ok',
      });
      // Without a version (and from a platform that names none, like Modal) any 200 passes, as before.
      expect(await probeHealth({ baseUrl: server.url, timeoutMs: 15_000 })).toMatchObject({ outcome: 'ok' });
      expect(seen).toEqual(['2', '1', undefined]);
    } finally {
      await server.close();
    }
  });

  test('200 from a serving emulator → ok', async () => {
    const emulator = await startTestEmulator();
    try {
      const result = await probeHealth({ baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 15_000 });
      expect(result).toMatchObject({ outcome: 'ok', status: 200 });
      expect(result.latencyMs).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  test('connection refused while SGLang loads (its port is not open yet) → starting, port closed', async () => {
    const emulator = await startTestEmulator({ config: { phases: { weightLoadMs: 600_000 } }, shouldWaitReady: false });
    try {
      const result = await probeHealth({ baseUrl: emulator.url, timeoutMs: 15_000 });
      expect(result).toMatchObject({ outcome: 'starting', isPortClosed: true });
      expect(result.status).toBeUndefined();
      expect(result.detail).toContain('connection refused');
    } finally {
      await emulator.close();
    }
  });

  test("503 with an empty body during SGLang's own warm-up (port open) → starting", async () => {
    const emulator = await startTestEmulator({
      config: { phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 600_000 } },
      shouldWaitReady: false,
    });
    try {
      await emulator.listening;
      const result = await probeHealth({ baseUrl: emulator.url, timeoutMs: 15_000 });
      expect(result).toMatchObject({ outcome: 'starting', status: 503, detail: 'HTTP 503' });
      expect(result.isPortClosed).toBeUndefined();
    } finally {
      await emulator.close();
    }
  });

  test('502 from a router in front of a dead engine → bad-gateway', async () => {
    const router = await listen((_req, res) => res.writeHead(502).end('Bad Gateway'));
    try {
      const result = await probeHealth({ baseUrl: router.url, timeoutMs: 15_000 });
      expect(result).toMatchObject({ outcome: 'bad-gateway', status: 502 });
      expect(result.detail).toContain('Bad Gateway');
    } finally {
      await router.close();
    }
  });

  test('a hung engine (nothing answers) → timeout within the limit', async () => {
    const emulator = await startTestEmulator({
      config: { faults: [{ kind: 'hang', at: 'serving', mode: 'process' }] },
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const result = await probeHealth({ baseUrl: emulator.url, timeoutMs: 300 });
      expect(result.outcome).toBe('timeout');
      // The probe's own limit ended it (a lower bound only: a busy machine may be late, never early).
      expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    } finally {
      await emulator.close();
    }
  });

  test('nothing listening → starting with the port closed (a loading SGLang looks exactly like this)', async () => {
    const result = await probeHealth({ baseUrl: await closedPortUrl(), timeoutMs: 15_000 });
    expect(result).toMatchObject({ outcome: 'starting', isPortClosed: true });
    expect(result.status).toBeUndefined();
  });

  test('another status → error, with the status kept', async () => {
    const server = await listen((_req, res) => res.writeHead(404).end('not here'));
    try {
      expect(await probeHealth({ baseUrl: server.url, timeoutMs: 15_000 })).toMatchObject({
        outcome: 'error',
        status: 404,
      });
    } finally {
      await server.close();
    }
  });

  test('the API key goes in the Authorization header only, never into the result', async () => {
    const seen: Array<string | undefined> = [];
    const server = await listen((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(500).end(`echo ${req.headers.authorization}`);
    });
    try {
      const result = await probeHealth({ baseUrl: server.url, apiKey: TEST_API_KEY, timeoutMs: 15_000 });
      expect(seen).toEqual([`Bearer ${TEST_API_KEY}`]);
      expect(JSON.stringify(result)).not.toContain(TEST_API_KEY);
    } finally {
      await server.close();
    }
  });

  test("the caller's cancellation propagates instead of becoming an outcome", async () => {
    const emulator = await startTestEmulator({
      config: { faults: [{ kind: 'hang', at: 'serving', mode: 'process' }] },
    });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
      await expect(probeHealth({ baseUrl: emulator.url, timeoutMs: 5_000, signal: controller.signal })).rejects.toThrow(
        'activity cancelled',
      );
    } finally {
      await emulator.close();
    }
  });
});

describe('pollHealth', () => {
  test('polls through the refused port, then the warm-up 503s, until the engine serves (the recorded sequence)', async () => {
    const emulator = await startTestEmulator({
      config: { phases: { weightLoadMs: 20_000, serverWarmupMs: 20_000 } },
      shouldWaitReady: false,
    });
    const attempts: Array<[number, string, string]> = [];
    try {
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 10_000,
        pollIntervalMs: 10,
        deadlineMs: Date.now() + 20_000,
        onAttempt: (attempt, r) =>
          void attempts.push([attempt, r.outcome, r.isPortClosed ? 'refused' : String(r.status)]),
      });
      expect(result.ending).toBe('ok');
      expect(result.attempt).toBe(attempts.length);
      expect(result.outcomeCounts.starting).toBeGreaterThan(3);
      expect(result.outcomeCounts.ok).toBe(1);
      expect(attempts.at(-1)).toEqual([result.attempt, 'ok', '200']);
      expect(attempts.slice(0, -1).every(([, o]) => o === 'starting')).toBe(true);
      // Distinct phases in order, as real SGLang's /health went in the recorded start-ups: refused → 503 → 200.
      const phases = distinct(attempts.map(([, , seen]) => seen));
      for (const run of ['cpu/server_main.condensed.log', 'gpu/server_main.condensed.log'])
        expect(phases).toEqual(recordedHealthPhases(run));
      expect(phases).toEqual(['refused', '503', '200']);
    } finally {
      await emulator.close();
    }
  });

  test('a resumed poll continues the attempt count from startAttempt', async () => {
    const emulator = await startTestEmulator();
    try {
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 10_000,
        pollIntervalMs: 10,
        deadlineMs: Date.now() + 5_000,
        startAttempt: 13,
      });
      expect(result).toMatchObject({ ending: 'ok', attempt: 13 });
    } finally {
      await emulator.close();
    }
  });

  test('reports progress while a held probe is in flight, and counts on from a resumed poll', async () => {
    // A router that holds each /health (as a platform router does while it cold-starts the engine), then answers 200.
    const router = await listen((_req, res) => void setTimeout(() => res.writeHead(200).end('OK'), 600));
    try {
      const progress: Array<{ attempt: number; outcomes: Record<string, number> }> = [];
      const result = await pollHealth({
        baseUrl: router.url,
        timeoutMs: 5_000,
        pollIntervalMs: 10,
        deadlineMs: Date.now() + 10_000,
        startAttempt: 5,
        priorOutcomes: { starting: 4 },
        progressIntervalMs: 50,
        onProgress: (p) => void progress.push(structuredClone(p)),
      });
      expect(result).toMatchObject({ ending: 'ok', attempt: 5 });
      expect(result.outcomeCounts).toMatchObject({ starting: 4, ok: 1, timeout: 0 });
      // When the probe starts, at least once while it is held, and when it ends; only outcomes seen are named.
      expect(progress.length).toBeGreaterThanOrEqual(3);
      expect(progress.slice(0, -1).every((p) => p.attempt === 5 && p.outcomes.ok === undefined)).toBe(true);
      expect(progress[0]).toEqual({ attempt: 5, outcomes: { starting: 4 } });
      expect(progress.at(-1)).toEqual({ attempt: 5, outcomes: { starting: 4, ok: 1 } });
    } finally {
      await router.close();
    }
  });

  test('stops at the deadline without overrunning it, even against a hung engine', async () => {
    const emulator = await startTestEmulator({
      config: { faults: [{ kind: 'hang', at: 'serving', mode: 'process' }] },
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const startMs = Date.now();
      // Each probe's own limit (120 s) outlasts the test's timeout: only cutting it to the time left ends the poll.
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 120_000,
        pollIntervalMs: 50,
        deadlineMs: startMs + 400,
      });
      const tookMs = Date.now() - startMs;
      expect(result.ending).toBe('deadline');
      expect(result.outcomeCounts.timeout).toBeGreaterThanOrEqual(1);
      expect(tookMs).toBeGreaterThanOrEqual(390);
    } finally {
      await emulator.close();
    }
  });

  test('shouldStop ends the poll early (consecutive 502s = the engine died)', async () => {
    const router = await listen((_req, res) => res.writeHead(502).end());
    try {
      let streak = 0;
      const result = await pollHealth({
        baseUrl: router.url,
        timeoutMs: 10_000,
        pollIntervalMs: 5,
        deadlineMs: Date.now() + 10_000,
        shouldStop: (_attempt, r) => (streak = r.outcome === 'bad-gateway' ? streak + 1 : 0) >= 3,
      });
      expect(result).toMatchObject({ ending: 'stopped', attempt: 3 });
      expect(result.outcomeCounts['bad-gateway']).toBe(3);
    } finally {
      await router.close();
    }
  });

  test('detects readiness: the first 200 comes after the engine said it serves, never before', async () => {
    const emulator = await startTestEmulator({ config: { phases: { weightLoadMs: 30_000 } }, shouldWaitReady: false });
    try {
      let isReady = false;
      void emulator.ready.then(() => (isReady = true));
      const seenReady: boolean[] = [];
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 10_000,
        pollIntervalMs: 25,
        deadlineMs: Date.now() + 20_000,
        onAttempt: () => void seenReady.push(isReady),
      });
      expect(result.ending).toBe('ok');
      expect(seenReady.at(-1)).toBe(true);
      expect(seenReady[0]).toBe(false);
    } finally {
      await emulator.close();
    }
  });
});
