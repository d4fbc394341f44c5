import { VERSION_HEADER } from '../../../src/shared/version-header';
import type { Spec } from '../../../src/spec/schema';
import { startPlatformFixture, type PlatformFixture } from '../../helpers/platform-fixture';
import { waitFor } from '../../helpers/wait-for';

/** One answer of the router: its status and the version that gave it (the router's version header). */
interface Answer {
  status: number;
  version: number | null;
}

describe('local platform: a deploy is a rolling deploy (the old version serves until the new one is ready)', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    // Retention far beyond any test: the old engines go only on the events under test (next deploy, verification).
    fixture = await startPlatformFixture({ timings: { retainPreviousMs: 600_000 } });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const appStatus = async (app: string) => (await fixture.client.status()).apps.find((a) => a.app === app)!;
  const enginesOf = async (app: string, version: number) =>
    (await appStatus(app)).engines.filter((e) => e.version === version && e.state !== 'stopping');

  async function get(url: string, options: { pin?: number } = {}): Promise<Answer> {
    const response = await fetch(`${url}/v1/models`, {
      headers: {
        authorization: `Bearer ${fixture.apiKey}`,
        ...(options.pin === undefined ? {} : { [VERSION_HEADER]: String(options.pin) }),
      },
    });
    await response.text();
    const header = response.headers.get(VERSION_HEADER);
    return { status: response.status, version: header === null ? null : Number(header) };
  }

  /** A version whose engine loads for `loadS` seconds (at the fixture's time scale), optionally OOM-killed while loading. */
  function specWith(app: string, options: { loadS: number; oomAfterS?: number }): Spec {
    return fixture.specFor(app, (s) => {
      s.local.emulator = {
        phases: {
          weightLoadMs: options.loadS * 1_000_000,
          deepGemmCompileMs: 0,
          graphCaptureMs: 0,
          healthGenerateMs: 0,
        },
        ...(options.oomAfterS === undefined
          ? {}
          : {
              faults: [
                { kind: 'crash', at: 'loading', afterMs: options.oomAfterS * 1_000_000, signal: 'SIGKILL', oom: true },
              ],
            }),
      };
    });
  }

  async function deployReadyV1(app: string, url?: string): Promise<{ url: string; pid: number }> {
    await fixture.client.deploy(specWith(app, { loadS: 0.2 }), { rolloutId: `${app}-1` });
    const endpoint = url ?? (await fixture.client.endpoint(app)).url;
    expect(await get(endpoint)).toEqual({ status: 200, version: 1 });
    const [engine] = await enginesOf(app, 1);
    return { url: endpoint, pid: engine!.pid };
  }

  test('v1 answers every request while v2 loads; traffic moves once v2 is ready; rollback to v1 is instant', async () => {
    const app = 'rolling-app';
    const { url, pid: v1Pid } = await deployReadyV1(app);

    await fixture.client.deploy(specWith(app, { loadS: 4 }), { rolloutId: `${app}-2` });
    expect((await fixture.client.currentDeployment(app))?.version).toBe(2);
    // The deploy starts v2's engine itself, ahead of any request.
    await waitFor(async () => (await enginesOf(app, 2)).length === 1, { what: 'v2 engine started by the deploy' });

    const answers: Array<Answer & { v2State: string }> = [];
    while (!answers.some((a) => a.version === 2)) {
      const v2State = (await enginesOf(app, 2))[0]?.state ?? 'none';
      answers.push({ ...(await get(url)), v2State });
      if (answers.length > 2_000) throw new Error('v2 never answered');
    }
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const firstV2 = answers.findIndex((a) => a.version === 2);
    expect(answers.slice(0, firstV2).every((a) => a.version === 1)).toBe(true);
    // Requests sent while v2 was still loading were answered by v1, not held for v2's cold start.
    expect(answers.filter((a) => a.v2State === 'starting' && a.version === 1).length).toBeGreaterThan(0);

    // v1 is kept alive, not routed: unpinned requests go to v2, and v1's engine is the same process.
    expect(await get(url)).toEqual({ status: 200, version: 2 });
    const status = await appStatus(app);
    expect(status).toMatchObject({ currentVersion: 2, servingVersion: 2, retainedVersion: 1 });
    expect((await enginesOf(app, 1)).map((e) => [e.pid, e.state])).toEqual([[v1Pid, 'ready']]);

    const coldStarts = status.counters.coldStarts;
    await fixture.client.rollback(app, 1);
    expect(await get(url)).toEqual({ status: 200, version: 1 });
    const after = await appStatus(app);
    expect(after.counters.coldStarts).toBe(coldStarts);
    expect((await enginesOf(app, 1)).map((e) => e.pid)).toEqual([v1Pid]);
    // The version rolled back from is not kept.
    await waitFor(async () => !(await appStatus(app)).engines.some((e) => e.version === 2), { what: 'v2 drained' });
    await fixture.client.stop(app);
  });

  test('a new version OOM-killed while loading never gets traffic: no 502, and rollback starts no engine', async () => {
    const app = 'rolling-oom-app';
    const { url, pid: v1Pid } = await deployReadyV1(app);

    await fixture.client.deploy(specWith(app, { loadS: 30, oomAfterS: 0.3 }), { rolloutId: `${app}-2` });
    const answers: Answer[] = [];
    const hasDied = async (): Promise<boolean> =>
      (await fixture.client.logs(app)).some((l) => l.text === '[monitor] FATAL: SGLang died (code -9)');
    while (!(await hasDied())) {
      answers.push(await get(url));
      if (answers.length > 2_000) throw new Error('the v2 engine never died');
    }
    // Users keep going to v1 through the crash and the back-off before the replacement.
    answers.push(await get(url), await get(url));
    expect(answers.filter((a) => a.status !== 200 || a.version !== 1)).toEqual([]);
    // A probe of the candidate (pinned to v2, as the rollout's health wait sends it) sees the crash.
    await waitFor(async () => (await get(url, { pin: 2 })).status === 502, { what: 'a 502 from pinned v2' });

    const coldStarts = (await appStatus(app)).counters.coldStarts;
    await fixture.client.rollback(app, 1);
    expect(await get(url, { pin: 1 })).toEqual({ status: 200, version: 1 });
    expect(await get(url)).toEqual({ status: 200, version: 1 });
    expect((await appStatus(app)).counters.coldStarts).toBe(coldStarts);
    expect((await enginesOf(app, 1)).map((e) => e.pid)).toEqual([v1Pid]);
    await waitFor(async () => !(await appStatus(app)).engines.some((e) => e.version === 2), { what: 'v2 stopped' });
    await fixture.client.stop(app);
  });

  test('the next deploy stops the engines kept for rollback; only the last version is kept', async () => {
    const app = 'rolling-retire-app';
    const { url, pid: v1Pid } = await deployReadyV1(app);
    await fixture.client.deploy(specWith(app, { loadS: 0.2 }), { rolloutId: `${app}-2` });
    await waitFor(async () => (await get(url)).version === 2, { what: 'v2 serving' });
    expect((await enginesOf(app, 1)).map((e) => e.pid)).toEqual([v1Pid]);
    const [v2Engine] = await enginesOf(app, 2);

    await fixture.client.deploy(specWith(app, { loadS: 0.2 }), { rolloutId: `${app}-3` });
    await waitFor(async () => (await get(url)).version === 3, { what: 'v3 serving' });
    await waitFor(async () => !(await appStatus(app)).engines.some((e) => e.version === 1), { what: 'v1 stopped' });
    expect(await appStatus(app)).toMatchObject({ retainedVersion: 2 });
    expect((await enginesOf(app, 2)).map((e) => e.pid)).toEqual([v2Engine!.pid]);
    await fixture.client.stop(app);
  });

  test('marking the new version verified stops the engines kept for rollback; marking another one does not', async () => {
    const app = 'rolling-verified-app';
    const { url, pid: v1Pid } = await deployReadyV1(app);
    await fixture.client.deploy(specWith(app, { loadS: 0.2 }), { rolloutId: `${app}-2` });
    await waitFor(async () => (await get(url)).version === 2, { what: 'v2 serving' });

    await fixture.client.markVerified(app, 1);
    expect(await appStatus(app)).toMatchObject({ retainedVersion: 1 });
    expect((await enginesOf(app, 1)).map((e) => e.pid)).toEqual([v1Pid]);

    await fixture.client.markVerified(app, 2);
    expect(await appStatus(app)).toMatchObject({ retainedVersion: null });
    await waitFor(async () => !(await appStatus(app)).engines.some((e) => e.version === 1), { what: 'v1 stopped' });
    const logs = await fixture.client.logs(app);
    expect(logs.some((l) => l.text.includes('v1 no longer kept for rollback: v2 verified'))).toBe(true);
    await fixture.client.stop(app);
  });

  test('a request pinned to a version the app does not run is refused with 409 naming it', async () => {
    const app = 'rolling-pin-app';
    const { url } = await deployReadyV1(app);
    const response = await fetch(`${url}/v1/models`, {
      headers: { authorization: `Bearer ${fixture.apiKey}`, [VERSION_HEADER]: '7' },
    });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain('v7');
    const malformed = await fetch(`${url}/v1/models`, { headers: { [VERSION_HEADER]: 'two' } });
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain(VERSION_HEADER);
    await fixture.client.stop(app);
  });
});
