import { isProcessAlive } from '../../../src/process/process-identity';
import { startPlatformFixture, streamChat, type PlatformFixture } from '../../helpers/platform-fixture';
import { waitFor } from '../../helpers/wait-for';

describe('local platform: engine faults and the crash monitor', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    fixture = await startPlatformFixture({
      timings: { replaceDelayMs: 600, maxReplaceDelayMs: 1_200, stopGraceMs: 700 },
    });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const appStatus = async (app: string) => (await fixture.client.status()).apps.find((a) => a.app === app)!;

  test('engine SIGKILLed during load (code -9): 502 while down, monitor line logged, replacement started', async () => {
    const spec = fixture.specFor('oom-app', (s) => {
      s.local.emulator = {
        ...s.local.emulator,
        faults: [{ kind: 'crash', at: 'loading', afterMs: 50_000, signal: 'SIGKILL', oom: true }],
      };
    });
    await fixture.client.deploy(spec, { rolloutId: 'oom-1' });
    const { url } = await fixture.client.endpoint('oom-app');
    const held = await streamChat(url, fixture.apiKey);
    expect(held.status).toBe(502);
    const down = await fetch(`${url}/health`);
    expect(down.status).toBe(502);
    const logs = await fixture.client.logs('oom-app');
    expect(logs.some((l) => l.stream === 'system' && l.text === '[monitor] FATAL: SGLang died (code -9)')).toBe(true);
    await waitFor(async () => (await appStatus('oom-app')).counters.replacements >= 1, {
      what: 'a replacement engine',
    });
    const status = await appStatus('oom-app');
    expect(status.counters.badGateway502).toBeGreaterThanOrEqual(2);
    expect(status.counters.coldStarts).toBeGreaterThanOrEqual(2);
    await fixture.client.stop('oom-app');
  });

  test('engine exits 137 while serving: the request fails, code 137 is logged, the replacement serves', async () => {
    const spec = fixture.specFor('kill-app', (s) => {
      s.local.emulator = {
        ...s.local.emulator,
        faults: [{ kind: 'crash', at: 'serving', afterRequests: 2, exitCode: 137 }],
      };
    });
    await fixture.client.deploy(spec, { rolloutId: 'kill-1' });
    const { url } = await fixture.client.endpoint('kill-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const firstPid = (await appStatus('kill-app')).engines[0]!.pid;
    const second = await streamChat(url, fixture.apiKey).catch(() => ({ status: 0, body: '' }));
    expect(second.status === 200 ? second.body : 'cut').not.toContain('[DONE]');
    await waitFor(
      async () =>
        (await fixture.client.logs('kill-app')).some((l) => l.text === '[monitor] FATAL: SGLang died (code 137)'),
      { what: 'the crash monitor logs the SIGKILL' },
    );
    expect((await fetch(`${url}/health`)).status).toBe(502);
    await waitFor(async () => (await appStatus('kill-app')).counters.replacements === 1, {
      what: 'one replacement engine',
    });
    const after = await streamChat(url, fixture.apiKey);
    expect(after.status).toBe(200);
    const status = await appStatus('kill-app');
    expect(status.engines[0]!.pid).not.toBe(firstPid);
    expect(isProcessAlive(firstPid)).toBe(false);
    await fixture.client.stop('kill-app');
  });

  test('engine hangs while loading: the held request times out at startupTimeout; stop kills it (TERM, then KILL)', async () => {
    const spec = fixture.specFor('hang-app', (s) => {
      s.health.startupTimeout = 8;
      s.local.emulator = {
        ...s.local.emulator,
        faults: [{ kind: 'hang', at: 'loading', afterMs: 0, mode: 'process' }],
      };
    });
    await fixture.client.deploy(spec, { rolloutId: 'hang-1' });
    const { url } = await fixture.client.endpoint('hang-app');
    const started = Date.now();
    const held = fetch(`${url}/health`);
    // The hung engine, seen while the request is held: past the startup timeout the platform may stop it by itself.
    await waitFor(async () => (await appStatus('hang-app')).engines.length > 0, { what: 'the hung engine started' });
    const pids = (await appStatus('hang-app')).engines.map((e) => e.pid);
    const response = await held;
    const waitedMs = Date.now() - started;
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('startup timeout');
    // Held until the 8 s startupTimeout, not failed early: a lower bound, which a loaded machine only makes longer.
    expect(waitedMs).toBeGreaterThanOrEqual(7_500);

    expect(pids.length).toBeGreaterThan(0);
    await fixture.client.stop('hang-app');
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect((await appStatus('hang-app')).engines).toHaveLength(0);
    const logs = await fixture.client.logs('hang-app');
    expect(logs.some((l) => l.text.startsWith('[monitor] FATAL'))).toBe(false);
  }, 30_000);
});
