import { isProcessAlive } from '../../../src/platforms/local/process-identity';
import {
  eventually,
  startPlatformFixture,
  streamChat,
  testSpec,
  type PlatformFixture,
} from './helpers/platform-fixture';

describe('local platform: Modal-like scaling', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    fixture = await startPlatformFixture();
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const appStatus = async (app: string) => (await fixture.client.status()).apps.find((a) => a.app === app)!;

  test('scales to zero after scaledownWindow idle, then cold-starts on the next request', async () => {
    await fixture.client.deploy(
      testSpec('zero-app', (s) => (s.modal.scaledownWindow = 2)),
      { rolloutId: 'z-1' },
    );
    const { url } = await fixture.client.endpoint('zero-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const pid = (await appStatus('zero-app')).engines[0]!.pid;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await appStatus('zero-app')).engines).toHaveLength(1);
    expect(await eventually(async () => (await appStatus('zero-app')).engines.length === 0, 4_000)).toBe(true);
    expect(isProcessAlive(pid)).toBe(false);
    expect((await fixture.client.logs('zero-app')).some((l) => l.text.includes('scaled down after 2 s idle'))).toBe(
      true,
    );
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    expect((await appStatus('zero-app')).counters.coldStarts).toBe(2);
    await fixture.client.stop('zero-app');
  });

  test('setMinContainers keeps engines warm past the window; back to 0 scales down', async () => {
    await fixture.client.deploy(
      testSpec('warm-app', (s) => {
        s.modal.scaledownWindow = 2;
        s.modal.maxContainers = 2;
      }),
      { rolloutId: 'w-1' },
    );
    await fixture.client.setMinContainers('warm-app', 2);
    expect(
      await eventually(async () => {
        const engines = (await appStatus('warm-app')).engines;
        return engines.length === 2 && engines.every((e) => e.state === 'ready');
      }, 5_000),
    ).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await appStatus('warm-app')).engines).toHaveLength(2);
    expect((await appStatus('warm-app')).minContainers).toBe(2);
    await fixture.client.setMinContainers('warm-app', 0);
    expect(await eventually(async () => (await appStatus('warm-app')).engines.length === 0, 6_000)).toBe(true);
    await fixture.client.stop('warm-app');
  });

  test('spills to a new engine when one has maxInputs in flight, up to maxContainers', async () => {
    await fixture.client.deploy(
      testSpec('spill-app', (s) => {
        s.modal.maxContainers = 2;
        s.modal.maxInputs = 1;
        s.sglang.args['max-running-requests'] = 1;
      }),
      { rolloutId: 's-1' },
    );
    const { url } = await fixture.client.endpoint('spill-app');
    const results = await Promise.all([1, 2, 3].map(() => streamChat(url, fixture.apiKey)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const status = await appStatus('spill-app');
    expect(status.engines).toHaveLength(2);
    expect(status.counters.coldStarts).toBe(2);
    await fixture.client.stop('spill-app');
  });
});
