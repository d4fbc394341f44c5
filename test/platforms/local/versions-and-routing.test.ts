import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorType } from '../../../src/shared/errors';
import { startPlatformFixture, streamChat, type PlatformFixture } from '../../helpers/platform-fixture';
import { waitFor } from '../../helpers/wait-for';

describe('local platform: versions, cold start and routing', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    // A short retention: the version replaced by a deploy is kept 1 s after the new one serves, then stopped.
    fixture = await startPlatformFixture({ timings: { retainPreviousMs: 1_000 } });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  test('deploy records v1, the router cold-starts an engine, holds the request, then streams chat', async () => {
    const spec = fixture.specFor('routing-app');
    const deployment = await fixture.client.deploy(spec, { rolloutId: 'r-1' });
    expect(deployment).toMatchObject({ app: 'routing-app', version: 1, rolloutId: 'r-1', isCurrent: true });
    const { url } = await fixture.client.endpoint('routing-app');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const before = await fixture.client.status();
    expect(before.apps.find((a) => a.app === 'routing-app')?.engines).toHaveLength(0);

    const started = Date.now();
    const chat = await streamChat(url, fixture.apiKey);
    expect(chat.status).toBe(200);
    expect(chat.body).toContain('data: [DONE]');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);

    const after = (await fixture.client.status()).apps.find((a) => a.app === 'routing-app')!;
    expect(after.counters.coldStarts).toBe(1);
    expect(after.engines).toHaveLength(1);
    expect(after.engines[0]).toMatchObject({ version: 1, state: 'ready' });

    // The second request is served by the warm engine: no second cold start (how fast is bench/router-overhead's).
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const warm = (await fixture.client.status()).apps.find((a) => a.app === 'routing-app')!;
    expect(warm.counters.coldStarts).toBe(1);
    expect(warm.engines.map((e) => e.pid)).toEqual(after.engines.map((e) => e.pid));
  });

  test('the endpoint refuses requests without the API key (the engine checks it behind the router)', async () => {
    const { url } = await fixture.client.endpoint('routing-app');
    const response = await fetch(`${url}/v1/models`);
    expect(response.status).toBe(401);
  });

  test('a repeated rolloutId returns the same version; a new one makes v2, and v1 is stopped after its retention', async () => {
    const spec = fixture.specFor('routing-app');
    const again = await fixture.client.deploy(spec, { rolloutId: 'r-1' });
    expect(again.version).toBe(1);
    const v2 = await fixture.client.deploy(spec, { rolloutId: 'r-2' });
    expect(v2).toMatchObject({ version: 2, isCurrent: true });
    const history = await fixture.client.history('routing-app');
    expect(history.map((d) => [d.version, d.rolloutId, d.isCurrent])).toEqual([
      [1, 'r-1', false],
      [2, 'r-2', true],
    ]);
    await waitFor(
      async () => {
        const app = (await fixture.client.status()).apps.find((a) => a.app === 'routing-app')!;
        return app.servingVersion === 2 && !app.engines.some((e) => e.version === 1);
      },
      { what: 'v2 serving and v1 stopped once its retention passed' },
    );
    const logs = await fixture.client.logs('routing-app');
    expect(logs.some((l) => l.text.includes('v1 no longer kept for rollback: not verified within its retention'))).toBe(
      true,
    );
    const { url } = await fixture.client.endpoint('routing-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const engines = (await fixture.client.status()).apps.find((a) => a.app === 'routing-app')!.engines;
    expect(engines.map((e) => e.version)).toEqual([2]);
  });

  test('rollback switches back to v1; the router port stays the same', async () => {
    const { url: before } = await fixture.client.endpoint('routing-app');
    const rolled = await fixture.client.rollback('routing-app', 1);
    expect(rolled).toMatchObject({ version: 1, isCurrent: true });
    expect((await fixture.client.currentDeployment('routing-app'))?.version).toBe(1);
    expect((await fixture.client.endpoint('routing-app')).url).toBe(before);
    expect((await streamChat(before, fixture.apiKey)).status).toBe(200);
  });

  test('rollback to a version that does not exist is a NotFound error naming app and version', async () => {
    const error = await fixture.client.rollback('routing-app', 42).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'NotFoundError', errorType: ErrorType.NotFound });
    expect((error as Error).message).toContain('"routing-app"');
    expect((error as Error).message).toContain('version 42');
  });

  test('calls for an app never deployed are NotFound', async () => {
    await expect(fixture.client.endpoint('nope')).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await fixture.client.currentDeployment('nope')).toBeNull();
  });

  test('an invalid spec is refused before any process starts', async () => {
    const bad = fixture.specFor('refused-app', (spec) => {
      spec.sglang.args['kv-cache-dtype'] = 'fp8_e4m3';
    });
    await expect(fixture.client.deploy(bad, { rolloutId: 'r-bad' })).rejects.toMatchObject({
      name: 'SpecRefusedError',
      errorType: ErrorType.SpecInvalid,
    });
    const broken = { ...fixture.specFor('refused-app'), modal: { maxContainers: 0 } } as never;
    const error = await fixture.client.deploy(broken, { rolloutId: 'r-bad' }).catch((err: unknown) => err);
    expect((error as Error).message).toContain('modal');
    const status = await fixture.client.status();
    expect(status.apps.find((a) => a.app === 'refused-app')).toBeUndefined();
    expect(fs.existsSync(path.join(fixture.home, 'platform', 'apps', 'refused-app'))).toBe(false);
  });

  test('a missing API key secret refuses the deploy with the secret name and no value', async () => {
    const spec = fixture.specFor('no-secret-app', (s) => {
      s.secrets.apiKey = 'missing-secret';
    });
    const error = await fixture.client.deploy(spec, { rolloutId: 'r-x' }).catch((err: unknown) => err);
    expect((error as Error).message).toContain('missing-secret');
    // The type a rollout's deploy step fails with (the drill in rollout-failures.test.ts went to the saga tests).
    expect(error).toMatchObject({ errorType: ErrorType.PlatformUnavailable });
    expect(fs.existsSync(path.join(fixture.home, 'platform', 'apps', 'no-secret-app'))).toBe(false);
  });

  test('logs hold the engine output with timestamps and the platform lines; since filters', async () => {
    const lines = await fixture.client.logs('routing-app');
    expect(lines.some((l) => l.stream === 'stdout' || l.stream === 'stderr')).toBe(true);
    expect(lines.some((l) => l.stream === 'system' && l.text.includes('deployed v2'))).toBe(true);
    for (const line of lines) expect(Number.isNaN(Date.parse(line.time))).toBe(false);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await fixture.client.logs('routing-app', { since: future })).toEqual([]);
    expect(await fixture.client.logs('routing-app', { limit: 2 })).toHaveLength(2);
  });

  test('the API key never reaches state files or logs', async () => {
    const files = fs.readdirSync(path.join(fixture.home, 'platform'), { recursive: true, withFileTypes: true });
    let checked = 0;
    for (const entry of files) {
      if (!entry.isFile()) continue;
      const text = fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
      expect(text).not.toContain(fixture.apiKey);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(3);
    const lines = await fixture.client.logs('routing-app');
    expect(JSON.stringify(lines)).not.toContain(fixture.apiKey);
  });

  test('stop ends the engines; the router answers 503 and current is null', async () => {
    await fixture.client.stop('routing-app');
    expect(await fixture.client.currentDeployment('routing-app')).toBeNull();
    const app = (await fixture.client.status()).apps.find((a) => a.app === 'routing-app')!;
    expect(app.engines).toHaveLength(0);
    const { url } = await fixture.client.endpoint('routing-app');
    expect((await fetch(`${url}/health`)).status).toBe(503);
    const history = await fixture.client.history('routing-app');
    expect(history.length).toBeGreaterThan(0);
    expect(history.filter((d) => d.isCurrent)).toEqual([]);
  });
});
