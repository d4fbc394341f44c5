import { isProcessAlive } from '../../../src/process/process-identity';
import { startPlatformFixture, streamChat, type PlatformFixture } from '../../helpers/platform-fixture';
import { waitFor } from '../../helpers/wait-for';

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
      fixture.specFor('zero-app', (s) => (s.modal.scaledownWindow = 2)),
      { rolloutId: 'z-1' },
    );
    const { url } = await fixture.client.endpoint('zero-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const lastRequestAtMs = Date.now();
    const pid = (await appStatus('zero-app')).engines[0]!.pid;
    await waitFor(async () => (await appStatus('zero-app')).engines.length === 0, { what: 'scaled to zero' });
    // Not before the window: a lower bound, which a loaded machine only makes longer (the lag is bench/local-scaling's).
    expect(Date.now() - lastRequestAtMs).toBeGreaterThanOrEqual(2_000);
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
      fixture.specFor('warm-app', (s) => {
        s.modal.scaledownWindow = 2;
        s.modal.maxContainers = 2;
      }),
      { rolloutId: 'w-1' },
    );
    await fixture.client.setMinContainers('warm-app', 2);
    await waitFor(
      async () => {
        const engines = (await appStatus('warm-app')).engines;
        return engines.length === 2 && engines.every((e) => e.state === 'ready');
      },
      { what: 'two ready engines' },
    );
    // Past the 2 s window (a sleep only overshoots under load, so this cannot flake): minContainers holds them.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await appStatus('warm-app')).engines).toHaveLength(2);
    expect((await appStatus('warm-app')).minContainers).toBe(2);
    await fixture.client.setMinContainers('warm-app', 0);
    await waitFor(async () => (await appStatus('warm-app')).engines.length === 0, { what: 'scaled to zero' });
    await fixture.client.stop('warm-app');
  });

  test('spills to a new engine when one has maxInputs in flight, up to maxContainers', async () => {
    await fixture.client.deploy(
      fixture.specFor('spill-app', (s) => {
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

  test('a client that gives up while its request is held for a cold start frees its slot', async () => {
    await fixture.client.deploy(
      fixture.specFor('abandon-app', (s) => {
        s.modal.maxContainers = 1;
        s.modal.maxInputs = 2;
        s.health.startupTimeout = 20;
        s.local.emulator = {
          phases: { weightLoadMs: 1_000_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
        };
      }),
      { rolloutId: 'a-1' },
    );
    const { url } = await fixture.client.endpoint('abandon-app');
    // Five probes that time out during the ~1 s load (under the 1200 s watchdog), as a health poller's would: more than maxInputs.
    const abandoned = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        fetch(`${url}/health`, { signal: AbortSignal.timeout(200) }).then(
          () => 'answered',
          () => 'gave up',
        ),
      ),
    );
    expect(abandoned).toEqual(['gave up', 'gave up', 'gave up', 'gave up', 'gave up']);
    const served = await streamChat(url, fixture.apiKey);
    expect(served.status).toBe(200);
    expect((await appStatus('abandon-app')).engines.every((e) => e.inFlight === 0)).toBe(true);
    await fixture.client.stop('abandon-app');
  });
});
