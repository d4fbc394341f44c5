import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepHeartbeating } from '../../src/activities/keep-heartbeating';
import { createServingActivities, type EndpointCheckInput } from '../../src/activities/serving-activities';
import type { Platform } from '../../src/platforms/platform';
import { waitFor } from '../helpers/wait-for';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('keepHeartbeating', () => {
  test('heartbeats while the body runs, with the details it is given, and stops when the body is done', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    let release!: () => void;
    const run = env.run(() =>
      keepHeartbeating(() => new Promise<string>((resolve) => (release = () => resolve('done'))), {
        intervalMs: 10,
        details: () => ({ stage: 'deploy' }),
      }),
    );
    await waitFor(() => beats.length >= 3, { what: 'three heartbeats' });
    release();
    await expect(run).resolves.toBe('done');
    const count = beats.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(beats.length).toBe(count);
    expect(beats.every((b) => JSON.stringify(b) === '{"stage":"deploy"}')).toBe(true);
  });

  test("a cancellation ends the activity at once, even when the body ignores it (onCancel 'end')", async () => {
    const env = new MockActivityEnvironment();
    let signal: AbortSignal | undefined;
    const run = env.run(() =>
      keepHeartbeating((s) => {
        signal = s;
        return never<void>();
      }),
    );
    await waitFor(() => signal !== undefined, { what: 'the body started' });
    env.cancel();
    await expect(run).rejects.toMatchObject({ name: 'CancelledFailure' });
    expect(signal?.aborted).toBe(true);
  });

  test("onCancel 'finish' lets the body run to its end and hands it the aborted signal", async () => {
    const env = new MockActivityEnvironment();
    let signal: AbortSignal | undefined;
    const run = env.run(() =>
      keepHeartbeating(
        (s) => {
          signal = s;
          return new Promise<string>((resolve) =>
            s.addEventListener('abort', () => resolve('finished after the abort')),
          );
        },
        { onCancel: 'finish' },
      ),
    );
    await waitFor(() => signal !== undefined, { what: 'the body started' });
    env.cancel();
    await expect(run).resolves.toBe('finished after the abort');
  });
});

describe('warmup and smoke tests heartbeat while the endpoint holds them', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    // An engine that accepts every request and never answers (a first completion stuck in graph capture).
    server = http.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const activities = () => {
    const platform = { endpoint: async () => ({ url }) } as unknown as Platform;
    return createServingActivities({ platformNamed: () => platform, resolveSecret: () => 'sk-heartbeat-test' });
  };
  const input: EndpointCheckInput = {
    app: 'hb-test',
    platform: 'local',
    secretName: 'glm-api-key',
    servedName: 'glm-5.1-fp8',
    timeoutSec: 600,
  };

  test.each(['warmup', 'smokeTest'] as const)('%s heartbeats, and a cancellation ends it', async (name) => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => (beats += 1));
    const run = env.run(activities()[name], input);
    // Two beats: the one at the start and one sent while the requests are held.
    await waitFor(() => beats >= 2, { what: `${name} heartbeats`, timeoutMs: 60_000 });
    env.cancel();
    await expect(run).rejects.toMatchObject({ name: 'CancelledFailure' });
  });
});
