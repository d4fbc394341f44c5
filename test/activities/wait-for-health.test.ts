import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  createServingActivities,
  type HealthWaitInput,
  type HealthWaitResult,
} from '../../src/activities/serving-activities';
import type { Platform } from '../../src/platforms/platform';
import { ErrorType } from '../../src/shared/errors';

const API_KEY = 'sk-wait-for-health-test-5d1e';

/** A real HTTP server whose /health answers the statuses given, in order (the last one repeats). */
async function healthServer(
  statuses: number[],
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    const status = statuses[Math.min(hits, statuses.length - 1)]!;
    hits += 1;
    res.writeHead(status).end(status === 200 ? 'OK' : '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function healthActivity(url: string) {
  // waitForHealth asks the platform for the endpoint only; the rest of the port is never called.
  const platform = { endpoint: async () => ({ url }) } as unknown as Platform;
  return createServingActivities({ platformNamed: () => platform, resolveSecret: () => API_KEY }).waitForHealth;
}

const input: HealthWaitInput = {
  app: 'wait-test',
  platform: 'local',
  secretName: 'glm-api-key',
  startupTimeoutSec: 30,
  pollIntervalSec: 0.01,
};

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as Record<string, unknown>,
  );
}

test('polls through 503s to a 200, heartbeating the attempt, the counts and the start time', async () => {
  const server = await healthServer([503, 503, 200]);
  try {
    const env = new MockActivityEnvironment();
    const beats: Array<{ attempt: number; startedAtMs: number; outcomes: Record<string, number> }> = [];
    env.on('heartbeat', (details: (typeof beats)[number]) => beats.push(details));
    const result: HealthWaitResult = await env.run(healthActivity(server.url), input);
    expect(result).toMatchObject({ attempt: 3, outcomes: { starting: 2, ok: 1 } });
    expect(beats.at(-1)).toMatchObject({ attempt: 3, outcomes: { starting: 2, ok: 1 } });
    expect(new Set(beats.map((b) => b.startedAtMs)).size).toBe(1);
    expect(JSON.stringify(beats)).not.toContain(API_KEY);
  } finally {
    await server.close();
  }
});

test('a retry resumes the attempt count, the outcome counts and the original deadline from the heartbeat', async () => {
  const server = await healthServer([200]);
  try {
    const startedAtMs = Date.now() - 5_000;
    const env = new MockActivityEnvironment({
      heartbeatDetails: { attempt: 7, startedAtMs, outcomes: { starting: 7 } },
    });
    const beats: Array<{ startedAtMs: number }> = [];
    env.on('heartbeat', (details: { startedAtMs: number }) => beats.push(details));
    const result: HealthWaitResult = await env.run(healthActivity(server.url), input);
    expect(result).toMatchObject({ attempt: 8, outcomes: { starting: 7, ok: 1 } });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(5_000);
    expect(beats.every((b) => b.startedAtMs === startedAtMs)).toBe(true);
  } finally {
    await server.close();
  }
});

test('consecutive 502s end the wait as EngineCrashed, with the outcomes in the details', async () => {
  const server = await healthServer([503, 502]);
  try {
    const failure = await rejection(new MockActivityEnvironment().run(healthActivity(server.url), input));
    expect(failure).toMatchObject({
      name: 'ApplicationFailure',
      type: ErrorType.EngineCrashed,
      details: [{ attempt: 4, outcomes: { starting: 1, 'bad-gateway': 3 }, lastStatus: 502 }],
    });
    expect(failure.message).toContain('3 consecutive 502 Bad Gateway');
    expect(server.hits()).toBe(4);
  } finally {
    await server.close();
  }
});

test('a deadline that passed ends the wait as HealthTimeout; the platform start margin extends it', async () => {
  const server = await healthServer([503]);
  try {
    // Resumed 10 s into a 1 s startup timeout: one more probe, cut to 1 ms (the time left), then the wait ends.
    const past = { heartbeatDetails: { attempt: 2, startedAtMs: Date.now() - 10_000, outcomes: { starting: 2 } } };
    const failure = await rejection(
      new MockActivityEnvironment(past).run(healthActivity(server.url), { ...input, startupTimeoutSec: 1 }),
    );
    expect(failure).toMatchObject({ type: ErrorType.HealthTimeout, details: [{ attempt: 3 }] });
    // The 1 ms probe usually times out; a fast loopback may still see the 503 in time.
    const details = (failure.details as Array<{ outcomes: Record<string, number>; lastOutcome: string }>)[0]!;
    expect(['timeout', 'starting']).toContain(details.lastOutcome);
    expect(details.outcomes).toEqual(details.lastOutcome === 'timeout' ? { starting: 2, timeout: 1 } : { starting: 3 });
    expect(failure.message).toContain('health.startupTimeout 1s');
  } finally {
    await server.close();
  }

  const flipping = await healthServer([503, 503, 200]);
  try {
    const past = { heartbeatDetails: { attempt: 0, startedAtMs: Date.now() - 10_000, outcomes: {} } };
    const result = await new MockActivityEnvironment(past).run(healthActivity(flipping.url), {
      ...input,
      startupTimeoutSec: 1,
      platformStartMarginSec: 600,
    });
    expect(result).toMatchObject({ attempt: 3, outcomes: { starting: 2, ok: 1 } });
  } finally {
    await flipping.close();
  }
});

test('a cancelled wait reports the cancellation', async () => {
  const server = await healthServer([503]);
  try {
    const env = new MockActivityEnvironment();
    const run = env.run(healthActivity(server.url), { ...input, pollIntervalSec: 0.05 });
    setTimeout(() => env.cancel(), 200);
    await expect(run).rejects.toMatchObject({ name: 'CancelledFailure' });
  } finally {
    await server.close();
  }
});
