import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { isProcessAlive } from '../../../src/process/process-identity';
import { startPlatformFixture, streamChat, type PlatformFixture } from '../../helpers/platform-fixture';
import { waitFor } from '../../helpers/wait-for';

describe('local platform: daemon restart from its state', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    fixture = await startPlatformFixture();
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const appStatus = async (app: string) => (await fixture.client.status()).apps.find((a) => a.app === app)!;

  test('a killed daemon restarts, adopts the live engine of the current version, keeps the router port', async () => {
    await fixture.client.deploy(fixture.specFor('adopt-app'), { rolloutId: 'a-1' });
    const { url } = await fixture.client.endpoint('adopt-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const pid = (await appStatus('adopt-app')).engines[0]!.pid;

    await fixture.restartAfterCrash();
    expect(isProcessAlive(pid)).toBe(true);
    expect((await fixture.client.endpoint('adopt-app')).url).toBe(url);
    const status = await appStatus('adopt-app');
    expect(status.engines.map((e) => e.pid)).toEqual([pid]);
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    expect((await appStatus('adopt-app')).counters.coldStarts).toBe(1);
    expect((await fixture.client.logs('adopt-app')).some((l) => l.text.includes(`adopted engine v1 pid ${pid}`))).toBe(
      true,
    );

    await fixture.client.stop('adopt-app');
    expect(isProcessAlive(pid)).toBe(false);
  });

  test('an adopted engine that dies later is still caught by the crash monitor', async () => {
    await fixture.client.deploy(fixture.specFor('adopt-crash-app'), { rolloutId: 'ac-1' });
    const { url } = await fixture.client.endpoint('adopt-crash-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const pid = (await appStatus('adopt-crash-app')).engines[0]!.pid;
    await fixture.restartAfterCrash();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      async () =>
        (await fixture.client.logs('adopt-crash-app')).some((l) => l.text.startsWith('[monitor] FATAL: SGLang died')),
      { what: 'the crash monitor logs the death of the adopted engine' },
    );
    await waitFor(async () => (await appStatus('adopt-crash-app')).counters.replacements === 1, {
      what: 'one replacement engine',
    });
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    await fixture.client.stop('adopt-crash-app');
  });

  const editState = (app: string, edit: (state: Record<string, unknown>) => void): void => {
    const file = path.join(fixture.home, 'platform', 'apps', app, 'state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(state);
    fs.writeFileSync(file, JSON.stringify(state));
  };

  test('after a restart, an engine whose version is no longer current is killed, not adopted', async () => {
    await fixture.client.deploy(fixture.specFor('leftover-app'), { rolloutId: 'l-1' });
    const { url } = await fixture.client.endpoint('leftover-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const pid = (await appStatus('leftover-app')).engines[0]!.pid;
    // The daemon died after recording a stop but before killing the engine.
    await fixture.restartAfterCrash(() => editState('leftover-app', (state) => (state.currentVersion = null)));
    expect(isProcessAlive(pid)).toBe(false);
    expect((await appStatus('leftover-app')).engines).toHaveLength(0);
    expect(
      (await fixture.client.logs('leftover-app')).some((l) => l.text.includes(`killed leftover engine v1 pid ${pid}`)),
    ).toBe(true);
  });

  test('after a restart, an engine no state records (spawned just before the kill) is found and killed', async () => {
    await fixture.client.deploy(fixture.specFor('orphan-app'), { rolloutId: 'o-1' });
    const { url } = await fixture.client.endpoint('orphan-app');
    expect((await streamChat(url, fixture.apiKey)).status).toBe(200);
    const pid = (await appStatus('orphan-app')).engines[0]!.pid;
    await fixture.restartAfterCrash(() => editState('orphan-app', (state) => (state.engines = [])));
    await waitFor(() => !isProcessAlive(pid), { what: `the orphan engine ${pid} killed` });
  });

  test('the recorded router port taken by someone else: the router moves and status reports it', async () => {
    await fixture.client.deploy(fixture.specFor('port-app'), { rolloutId: 'p-1' });
    const { url } = await fixture.client.endpoint('port-app');
    const port = Number(new URL(url).port);
    await fixture.running.shutdown({ stopEngines: false });
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await fixture.restartAfterCrash();
      const { url: moved } = await fixture.client.endpoint('port-app');
      expect(moved).not.toBe(url);
      const status = await appStatus('port-app');
      expect(status.portNote).toContain(`router port ${port} was taken`);
      expect((await streamChat(moved, fixture.apiKey)).status).toBe(200);
    } finally {
      squatter.close();
    }
    await fixture.client.stop('port-app');
  });
});
