import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModalPlatform } from '../../../src/platforms/modal/modal-platform';
import { ErrorType } from '../../../src/shared/errors';
import { parseSpecText } from '../../../src/spec/parse-spec';
import type { Spec } from '../../../src/spec/schema';
import { createFakeModal } from './helpers/fake-modal-cli';

const root = path.join(__dirname, '..', '..', '..');
const deployPy = path.join(root, 'modal', 'deploy.py');

function exampleSpec(): Spec {
  const result = parseSpecText(fs.readFileSync(path.join(root, 'examples', 'glm-5.1-b200.yaml'), 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

describe('ModalPlatform against a fake modal executable', () => {
  let fake: ReturnType<typeof createFakeModal>;
  let platform: ModalPlatform;
  const spec = exampleSpec();

  beforeEach(() => {
    fake = createFakeModal();
    platform = new ModalPlatform({ modalBin: fake.bin, deployPy, env: { ...process.env }, recordsDir: path.join(fake.dir, 'records') });
  });
  afterEach(() => fake.cleanup());

  test('deploy passes name, env and tag, and a retried deploy finds its tag instead of deploying twice', async () => {
    const first = await platform.deploy(spec, { rolloutId: 'rollout-abc' });
    const retried = await platform.deploy(spec, { rolloutId: 'rollout-abc' });
    expect(first).toMatchObject({ app: 'glm-5.1-production', version: 1, rolloutId: 'rollout-abc', isCurrent: true });
    expect(retried.version).toBe(1);
    const deploys = fake.state().calls.filter((argv) => argv[0] === 'deploy');
    expect(deploys).toEqual([['deploy', deployPy, '--name', 'glm-5.1-production', '--env', 'main', '--tag', 'rollout-abc']]);
    expect(retried.spec).toEqual(spec);
  });

  test('currentDeployment is null before a deploy and the newest version after', async () => {
    expect(await platform.currentDeployment('glm-5.1-production')).toBeNull();
    await platform.deploy(spec, { rolloutId: 'r1' });
    await platform.deploy(spec, { rolloutId: 'r2' });
    expect(await platform.currentDeployment('glm-5.1-production')).toMatchObject({ version: 2, rolloutId: 'r2' });
    expect((await platform.history('glm-5.1-production')).map((d) => [d.version, d.rolloutId, d.isCurrent])).toEqual([
      [2, 'r2', true],
      [1, 'r1', false],
    ]);
  });

  test('rollback sends vN and records the new version as running the old spec', async () => {
    await platform.deploy(spec, { rolloutId: 'r1' });
    await platform.deploy({ ...spec, sglang: { ...spec.sglang, image: 'lmsysorg/sglang:v0.5.11' } }, { rolloutId: 'r2' });
    const back = await platform.rollback('glm-5.1-production', 1);
    expect(fake.state().calls.find((argv) => argv[1] === 'rollback')).toEqual(['app', 'rollback', 'glm-5.1-production', 'v1', '--env', 'main']);
    expect(back).toMatchObject({ version: 3, rolloutId: 'r1', isCurrent: true });
    expect(back.spec.sglang.image).toBe('lmsysorg/sglang:v0.5.10');
  });

  test('rollback to an unknown version is NotFound before any rollback runs', async () => {
    await platform.deploy(spec, { rolloutId: 'r1' });
    await expect(platform.rollback('glm-5.1-production', 7)).rejects.toMatchObject({ errorType: ErrorType.NotFound, message: expect.stringContaining('v7') });
    expect(fake.state().calls.some((argv) => argv[1] === 'rollback')).toBe(false);
  });

  test('stop runs with -y and is idempotent when the app is gone', async () => {
    await platform.deploy(spec, { rolloutId: 'r1' });
    await platform.stop('glm-5.1-production');
    expect(fake.state().calls.find((argv) => argv[1] === 'stop')).toEqual(['app', 'stop', 'glm-5.1-production', '--yes', '--env', 'main']);
    const s = fake.state();
    fake.setState({ ...s, failures: { 'app stop': { code: 1, stderr: "Error: No App with name 'glm-5.1-production' found" } } });
    await expect(platform.stop('glm-5.1-production')).resolves.toBeUndefined();
  });

  test('logs are parsed with times and platform lines marked as system', async () => {
    await platform.deploy(spec, { rolloutId: 'r1' });
    const lines = await platform.logs('glm-5.1-production', { since: '2h', limit: 10 });
    expect(fake.state().calls.at(-1)).toEqual(['app', 'logs', 'glm-5.1-production', '--env', 'main', '--timestamps', '--since', '2h', '--tail', '10']);
    expect(lines[0]).toEqual({ time: '2026-03-01T05:00:00.000Z', stream: 'system', text: '[health] passed on attempt 3' });
    expect(lines[1]?.stream).toBe('stdout');
  });

  test.each([
    ['Error: Token missing. Could not authenticate client.', ErrorType.PlatformUnavailable],
    ['Error: Could not connect to the Modal server.', ErrorType.TransportError],
    ['Error: Image build for im-123 failed.', ErrorType.DeployFailed],
  ])('a deploy failing with %j maps to %s', async (stderr, errorType) => {
    const s = fake.state();
    fake.setState({ ...s, failures: { deploy: { code: 1, stderr } } });
    await expect(platform.deploy(spec, { rolloutId: 'r1' })).rejects.toMatchObject({ errorType });
  });
});

describe('ModalPlatform with the real modal client', () => {
  const modalBin = path.join(root, '.venv', 'bin', 'modal');

  test('fake credentials never appear in the error of a failing command', async () => {
    const tokenId = 'ak-FAKEtokenID1234567890';
    const tokenSecret = 'as-FAKEtokenSECRET0987654321';
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-home-'));
    const env = { ...process.env, HOME: home, MODAL_TOKEN_ID: tokenId, MODAL_TOKEN_SECRET: tokenSecret, MODAL_SERVER_URL: 'http://127.0.0.1:9' };
    const platform = new ModalPlatform({ modalBin, deployPy, env, recordsDir: path.join(home, 'records'), timeouts: { quickMs: 4_000 } });
    try {
      const error = await platform.history('glm-5.1-production').then(
        () => undefined,
        (err: unknown) => err as Error & { errorType: string },
      );
      expect(error).toBeDefined();
      expect(error?.errorType).toBe(ErrorType.TransportError);
      const everything = JSON.stringify({ message: error?.message, stack: error?.stack, ...error });
      expect(everything).not.toContain(tokenId);
      expect(everything).not.toContain(tokenSecret);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 30_000);

  test('no credentials at all maps to PlatformUnavailable with the fix', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-home-'));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.MODAL_TOKEN_ID;
    delete env.MODAL_TOKEN_SECRET;
    const platform = new ModalPlatform({ modalBin, deployPy, env, recordsDir: path.join(home, 'records') });
    try {
      await expect(platform.stop('glm-5.1-production')).rejects.toMatchObject({
        errorType: ErrorType.PlatformUnavailable,
        message: expect.stringContaining('modal token new'),
      });
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 30_000);

  test('a missing modal binary is PlatformUnavailable', async () => {
    const platform = new ModalPlatform({ modalBin: '/nonexistent/modal', deployPy, env: { ...process.env }, recordsDir: os.tmpdir() });
    await expect(platform.stop('x')).rejects.toMatchObject({ errorType: ErrorType.PlatformUnavailable });
  });
});
