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

/**
 * A real HTTP server whose /health answers the statuses given, in order (the last one repeats), each after
 * `answerAfterMs` (so a probe cut to a millisecond cannot see it).
 */
async function healthServer(
  statuses: number[],
  answerAfterMs = 0,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    const status = statuses[Math.min(hits, statuses.length - 1)]!;
    hits += 1;
    setTimeout(() => res.writeHead(status).end(status === 200 ? 'OK' : ''), answerAfterMs);
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

test('a retry resumes the attempt count, the outcome counts, the start time and the polling time used', async () => {
  const server = await healthServer([200]);
  try {
    const startedAtMs = Date.now() - 5_000;
    const env = new MockActivityEnvironment({
      heartbeatDetails: {
        attempt: 7,
        startedAtMs,
        polledMs: 4_000,
        atMs: startedAtMs + 4_000,
        outcomes: { starting: 7 },
      },
    });
    const beats: Array<{ startedAtMs: number; polledMs: number }> = [];
    env.on('heartbeat', (details: (typeof beats)[number]) => beats.push(details));
    const result: HealthWaitResult = await env.run(healthActivity(server.url), input);
    expect(result).toMatchObject({ attempt: 8, outcomes: { starting: 7, ok: 1 } });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(5_000);
    expect(result.polledMs).toBeGreaterThanOrEqual(4_000);
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.every((b) => b.startedAtMs === startedAtMs && b.polledMs >= 4_000)).toBe(true);
  } finally {
    await server.close();
  }
});

describe('a resumed wait after an outage (no worker could reach Temporal)', () => {
  // The last recorded beat was 2 minutes ago, 5 s into a 30 s startup timeout: the wait began long before its budget.
  const afterOutage = () => {
    const atMs = Date.now() - 120_000;
    return { attempt: 5, startedAtMs: atMs - 5_000, polledMs: 5_000, atMs, outcomes: { starting: 5 } };
  };

  test('is not charged the outage: it polls on and passes when the engine turns healthy', async () => {
    const server = await healthServer([503, 503, 200]);
    try {
      const result: HealthWaitResult = await new MockActivityEnvironment({ heartbeatDetails: afterOutage() }).run(
        healthActivity(server.url),
        input,
      );
      expect(result).toMatchObject({ attempt: 8, outcomes: { starting: 7, ok: 1 } });
      expect(server.hits()).toBe(3);
    } finally {
      await server.close();
    }
  });

  test('with its budget polled away, it still probes once, in full, before timing out', async () => {
    const server = await healthServer([503], 50);
    try {
      const used = { ...afterOutage(), polledMs: 30_000 };
      const failure = await rejection(
        new MockActivityEnvironment({ heartbeatDetails: used }).run(healthActivity(server.url), input),
      );
      expect(failure).toMatchObject({
        type: ErrorType.HealthTimeout,
        details: [{ attempt: 6, lastOutcome: 'starting', outcomes: { starting: 6 }, isHardLimit: false }],
      });
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });

  test('past the hard limit (budget + at least 10 minutes since the wait began) it probes once, then times out', async () => {
    const server = await healthServer([503], 50);
    try {
      const atMs = Date.now() - 11 * 60_000;
      const old = { attempt: 2, startedAtMs: atMs - 1_000, polledMs: 1_000, atMs, outcomes: { starting: 2 } };
      const failure = await rejection(
        new MockActivityEnvironment({ heartbeatDetails: old }).run(healthActivity(server.url), input),
      );
      expect(failure).toMatchObject({
        type: ErrorType.HealthTimeout,
        details: [{ attempt: 3, lastOutcome: 'starting', isHardLimit: true }],
      });
      expect(failure.message).toContain("the wait's hard limit of 630s since it began passed");
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });
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

test('a fresh wait ends as HealthTimeout at its deadline; the platform start margin extends it', async () => {
  const server = await healthServer([503]);
  try {
    const failure = await rejection(
      new MockActivityEnvironment().run(healthActivity(server.url), { ...input, startupTimeoutSec: 0.3 }),
    );
    expect(failure).toMatchObject({ type: ErrorType.HealthTimeout, details: [{ isHardLimit: false }] });
    const details = (failure.details as Array<{ attempt: number; outcomes: Record<string, number> }>)[0]!;
    expect(details.attempt).toBeGreaterThanOrEqual(1);
    expect(Object.values(details.outcomes).reduce((a, b) => a + b, 0)).toBe(details.attempt);
    expect(failure.message).toContain('health.startupTimeout 0.3s');
  } finally {
    await server.close();
  }

  const flipping = await healthServer([503, 503, 200]);
  try {
    // 1 s of startup timeout already polled away, but 600 s of platform margin remain.
    const resumed = { attempt: 0, startedAtMs: Date.now() - 10_000, polledMs: 1_000, outcomes: {} };
    const result = await new MockActivityEnvironment({ heartbeatDetails: resumed }).run(healthActivity(flipping.url), {
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
