import * as fs from 'node:fs';
import { appDir, platformPathsIn } from '../../../src/platforms/local/platform-paths';
import { ErrorType } from '../../../src/shared/errors';
import { startPlatformFixture, type PlatformFixture } from '../../helpers/platform-fixture';

/** The daemon's record of verified versions (issue 14, item 4): the way back that outlives the workflow. */
describe('local platform: verified versions', () => {
  let fixture: PlatformFixture;

  beforeAll(async () => {
    fixture = await startPlatformFixture();
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  test('the last verified version is kept apart from the one routed, and survives a daemon crash', async () => {
    const app = 'verified-app';
    await fixture.client.deploy(fixture.specFor(app), { rolloutId: 'v-1' });
    expect(await fixture.client.lastVerified(app)).toBeNull();
    await fixture.client.markVerified(app, 1);
    await fixture.client.deploy(fixture.specFor(app), { rolloutId: 'v-2' });

    // v2 routes, unverified: the record still names v1.
    expect((await fixture.client.currentDeployment(app))?.version).toBe(2);
    expect(await fixture.client.lastVerified(app)).toMatchObject({ version: 1, isCurrent: false, rolloutId: 'v-1' });
    expect((await fixture.client.status()).apps.find((a) => a.app === app)).toMatchObject({
      currentVersion: 2,
      lastVerifiedVersion: 1,
    });

    await fixture.restartAfterCrash();
    expect((await fixture.client.lastVerified(app))?.version).toBe(1);

    await fixture.client.markVerified(app, 2);
    expect(await fixture.client.lastVerified(app)).toMatchObject({ version: 2, isCurrent: true });
    expect((await fixture.client.lastVerified(app, { excluding: 2 }))?.version).toBe(1);
    // Re-marking an older version makes it the latest again (a verified rollback to it).
    await fixture.client.markVerified(app, 1);
    expect((await fixture.client.lastVerified(app))?.version).toBe(1);
    expect((await fixture.client.lastVerified(app, { excluding: 1 }))?.version).toBe(2);
    await fixture.client.stop(app);
  });

  test('an unknown version cannot be marked, and an app never deployed has none', async () => {
    const app = 'verified-unknown';
    await fixture.client.deploy(fixture.specFor(app), { rolloutId: 'u-1' });
    await expect(fixture.client.markVerified(app, 7)).rejects.toMatchObject({
      errorType: ErrorType.NotFound,
      message: expect.stringContaining('cannot mark v7 of app "verified-unknown" verified: it has no such version'),
    });
    await expect(fixture.client.markVerified('never-deployed', 1)).rejects.toMatchObject({
      errorType: ErrorType.NotFound,
    });
    expect(await fixture.client.lastVerified('never-deployed')).toBeNull();
    await fixture.client.stop(app);
  });

  test('an unreadable record names its file and the fix', async () => {
    const app = 'verified-corrupt';
    await fixture.client.deploy(fixture.specFor(app), { rolloutId: 'c-1' });
    fs.writeFileSync(
      `${appDir(platformPathsIn(fixture.config.stateDir), app)}/verified.json`,
      JSON.stringify({ app, verifications: 3 }),
    );
    await expect(fixture.client.lastVerified(app)).rejects.toThrow(/verified\.json are unreadable: .*move it away/s);
    await fixture.client.stop(app);
  });
});
