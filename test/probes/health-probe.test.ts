import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollHealth, probeHealth } from '../../src/probes/health-probe';
import { startTestEmulator, TEST_API_KEY } from './emulator-fixture';

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

/** A port that was just free: nothing listens there. */
async function closedPortUrl(): Promise<string> {
  const server = await listen(() => undefined);
  await server.close();
  return server.url;
}

describe('probeHealth classifies one GET /health', () => {
  test('200 from a serving emulator → ok', async () => {
    const emulator = await startTestEmulator();
    try {
      const result = await probeHealth({ baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 2_000 });
      expect(result).toMatchObject({ outcome: 'ok', status: 200 });
      expect(result.latencyMs).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  test('503 while the emulator loads weights → starting', async () => {
    const emulator = await startTestEmulator({ config: { phases: { weightLoadMs: 600_000 } }, shouldWaitReady: false });
    try {
      const result = await probeHealth({ baseUrl: emulator.url, timeoutMs: 2_000 });
      expect(result).toMatchObject({ outcome: 'starting', status: 503 });
    } finally {
      await emulator.close();
    }
  });

  test('502 from a router in front of a dead engine → bad-gateway', async () => {
    const router = await listen((_req, res) => res.writeHead(502).end('Bad Gateway'));
    try {
      const result = await probeHealth({ baseUrl: router.url, timeoutMs: 2_000 });
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
      expect(result.latencyMs).toBeGreaterThanOrEqual(290);
      expect(result.latencyMs).toBeLessThan(2_000);
    } finally {
      await emulator.close();
    }
  });

  test('nothing listening → refused', async () => {
    const result = await probeHealth({ baseUrl: await closedPortUrl(), timeoutMs: 2_000 });
    expect(result.outcome).toBe('refused');
    expect(result.status).toBeUndefined();
  });

  test('another status → error, with the status kept', async () => {
    const server = await listen((_req, res) => res.writeHead(404).end('not here'));
    try {
      expect(await probeHealth({ baseUrl: server.url, timeoutMs: 2_000 })).toMatchObject({
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
      const result = await probeHealth({ baseUrl: server.url, apiKey: TEST_API_KEY, timeoutMs: 2_000 });
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
  test('polls through 503s until the engine serves and reports the attempt and counts', async () => {
    const emulator = await startTestEmulator({ config: { phases: { weightLoadMs: 40_000 } }, shouldWaitReady: false });
    const attempts: Array<[number, string]> = [];
    try {
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 1_000,
        pollIntervalMs: 20,
        deadlineMs: Date.now() + 10_000,
        onAttempt: (attempt, r) => void attempts.push([attempt, r.outcome]),
      });
      expect(result.ending).toBe('ok');
      expect(result.attempt).toBe(attempts.length);
      expect(result.outcomeCounts.starting).toBeGreaterThan(3);
      expect(result.outcomeCounts.ok).toBe(1);
      expect(attempts.at(-1)).toEqual([result.attempt, 'ok']);
      expect(attempts.slice(0, -1).every(([, o]) => o === 'starting')).toBe(true);
    } finally {
      await emulator.close();
    }
  });

  test('a resumed poll continues the attempt count from startAttempt', async () => {
    const emulator = await startTestEmulator();
    try {
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 1_000,
        pollIntervalMs: 10,
        deadlineMs: Date.now() + 5_000,
        startAttempt: 13,
      });
      expect(result).toMatchObject({ ending: 'ok', attempt: 13 });
    } finally {
      await emulator.close();
    }
  });

  test('stops at the deadline without overrunning it, even against a hung engine', async () => {
    const emulator = await startTestEmulator({
      config: { faults: [{ kind: 'hang', at: 'serving', mode: 'process' }] },
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const startMs = Date.now();
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 5_000,
        pollIntervalMs: 50,
        deadlineMs: startMs + 400,
      });
      const tookMs = Date.now() - startMs;
      expect(result.ending).toBe('deadline');
      expect(result.outcomeCounts.timeout).toBeGreaterThanOrEqual(1);
      expect(tookMs).toBeGreaterThanOrEqual(390);
      expect(tookMs).toBeLessThan(1_000);
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
        timeoutMs: 1_000,
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

  test('detects readiness within one poll interval plus one health generation of the engine becoming ready', async () => {
    const emulator = await startTestEmulator({ config: { phases: { weightLoadMs: 30_000 } }, shouldWaitReady: false });
    try {
      let readyAtMs = 0;
      void emulator.ready.then(() => (readyAtMs = Date.now()));
      const result = await pollHealth({
        baseUrl: emulator.url,
        timeoutMs: 1_000,
        pollIntervalMs: 25,
        deadlineMs: Date.now() + 10_000,
      });
      const detectedAtMs = Date.now();
      expect(result.ending).toBe('ok');
      expect(readyAtMs).toBeGreaterThan(0);
      // healthGenerateMs 100 at scale 0.01 = 1 ms; interval 25 ms; generous slack for CI.
      expect(detectedAtMs - readyAtMs).toBeLessThan(250);
    } finally {
      await emulator.close();
    }
  });
});
