import { runBench } from '../../src/loadgen';
import { startPlatformFixture, type PlatformFixture } from '../helpers/platform-fixture';

jest.setTimeout(120_000);

// The performance gate measures the candidate: every request of a pinned run carries the version header, and the
// real local router (daemon, router, emulator engines) places it on that version or refuses it.
describe('runBench pinned to an app version, through the local router', () => {
  let fixture: PlatformFixture;
  beforeAll(async () => {
    fixture = await startPlatformFixture();
  });
  afterAll(async () => fixture?.cleanup());

  const load = (url: string, version: number) =>
    runBench({
      baseUrl: url,
      apiKey: fixture.apiKey,
      model: fixture.specFor('pinned').model.servedName,
      dataset: { name: 'random', inputLen: 16, outputLen: 4, rangeRatio: 1 },
      numPrompts: 4,
      maxConcurrency: 2,
      version,
    });

  test('the serving version answers a run pinned to it; a version the app does not run is refused by name', async () => {
    await fixture.client.deploy(fixture.specFor('pinned'), { rolloutId: 'r-pinned-1' });
    const { url } = await fixture.client.endpoint('pinned');
    const pinned = await load(url, 1);
    expect([pinned.completed, pinned.failed]).toEqual([4, 0]);
    // Without the header this request would go to v1, the one serving: the refusal proves the header was sent.
    await expect(load(url, 7)).rejects.toThrow(/every warm-up request failed: HTTP 409: .*runs no engine of v7/);
  });

  test('a version that is not a positive integer is refused before any request', async () => {
    await expect(load('http://127.0.0.1:9', 0)).rejects.toThrow('version 0 must be an integer >= 1');
  });
});
