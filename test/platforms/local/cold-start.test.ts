import { startPlatformFixture, streamChat, type PlatformFixture } from '../../helpers/platform-fixture';
import { waitFor } from '../../helpers/wait-for';

// A cold start the way real SGLang does it: the engine's own port refuses connections until the model has loaded
// (then /health is 503 during SGLang's warm-up). The local platform must read that refusal as "starting": the
// router holds the request and answers it once the engine is ready — never a 502 for a loading engine.

async function directHealth(port: number): Promise<string> {
  try {
    return String((await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) })).status);
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? 'refused' : 'no answer';
  }
}

describe('local platform: cold start against a port that opens only after load', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    fixture = await startPlatformFixture();
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  test('a request held while the engine port refuses is answered 200 once it serves, not 502', async () => {
    const spec = fixture.specFor('cold-app', (s) => {
      // 8 000 s of engine time at 1/1000 speed: ~8 s of real load with the port closed, long enough that a loaded
      // machine still sees the engine starting when the test looks.
      s.local.emulator = {
        phases: { weightLoadMs: 8_000_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
      };
      s.health.startupTimeout = 60;
    });
    await fixture.client.deploy(spec, { rolloutId: 'cold-1' });
    const { url } = await fixture.client.endpoint('cold-app');
    const held = streamChat(url, fixture.apiKey);
    const status = async () => (await fixture.client.status()).apps.find((a) => a.app === 'cold-app')!;
    await waitFor(async () => (await status()).engines.length === 1, {
      what: 'one engine started by the held request',
    });
    const engine = (await status()).engines[0]!;
    expect(engine.state).toBe('starting');
    // The engine is alive and loading, and its port is closed: the router must be holding, not failing.
    expect(await directHealth(engine.port)).toBe('refused');
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('data: [DONE]');
    const logs = (await fixture.client.logs('cold-app')).map((l) => l.text);
    const at = (text: string) => logs.findIndex((l) => l.includes(text));
    // The engine's stderr keeps its order (stdout and the platform's own lines interleave by read time).
    expect(at('[platform] starting engine v1')).toBeGreaterThanOrEqual(0);
    expect(at('Load weight end')).toBeLessThan(at('Uvicorn running on'));
    expect(at('Uvicorn running on')).toBeLessThan(at('The server is fired up and ready to roll!'));
    expect(logs.some((l) => /^\[platform\] engine v1 pid \d+ ready after \d+ ms$/.test(l))).toBe(true);
    const after = await status();
    expect(after.counters.badGateway502).toBe(0);
    expect(after.engines[0]!.state).toBe('ready');
    expect(await directHealth(after.engines[0]!.port)).toBe('200');
    await fixture.client.stop('cold-app');
  }, 60_000);
});
