import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkModalReady, checkModalResources } from '../../../src/platforms/modal/modal-preflight';
import { type ModalStandin, startModalStandin } from '../../helpers/modal-standin';

describe('checkModalReady', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-preflight-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  test('a missing client is reported with the fix', () => {
    const result = checkModalReady({
      HOME: home,
      GLM_OPS_MODAL_CLI: path.join(home, 'nope'),
      MODAL_TOKEN_ID: 'a',
      MODAL_TOKEN_SECRET: 'b',
    });
    expect(result).toMatchObject({
      ok: false,
      problem: expect.stringContaining('not installed'),
      fix: expect.stringContaining('GLM_OPS_MODAL_CLI'),
    });
  });

  test('the installed client with both token variables is ready', () => {
    expect(checkModalReady({ HOME: home, MODAL_TOKEN_ID: 'ak-x', MODAL_TOKEN_SECRET: 'as-y' })).toEqual({ ok: true });
  });

  test('no tokens and no profile file is not ready, and the values never appear', () => {
    const result = checkModalReady({ HOME: home });
    expect(result).toMatchObject({ ok: false, fix: expect.stringContaining('modal token new') });
    const half = checkModalReady({ HOME: home, MODAL_TOKEN_ID: 'ak-secretvalue' });
    expect(half).toMatchObject({ ok: false, problem: expect.stringContaining('MODAL_TOKEN_SECRET is unset') });
    expect(JSON.stringify(half)).not.toContain('ak-secretvalue');
  });

  test('a profile file is enough', () => {
    fs.writeFileSync(path.join(home, '.modal.toml'), '[default]\n');
    expect(checkModalReady({ HOME: home })).toEqual({ ok: true });
  });
});

describe('checkModalResources through the real client against the stand-in', () => {
  let standin: ModalStandin;
  beforeAll(async () => {
    standin = await startModalStandin();
  }, 120_000);
  afterAll(async () => {
    await standin?.stop();
  });
  const spec = {
    environment: 'main',
    secrets: { apiKey: 'glm-api-key' },
    volumes: { weights: 'glm51-model-weights', kernels: 'glm51-deepgemm-cache' },
  };

  test('a missing API-key secret is one line naming the field, with the command that creates it', async () => {
    const result = await checkModalResources(spec, standin.env);
    expect(result).toEqual({
      ok: false,
      problem: 'secret glm-api-key (secrets.apiKey) does not exist in Modal environment main',
      fix: 'run `modal secret create glm-api-key API_KEY=<key> --env main`',
    });
  }, 120_000);

  test('missing volumes are notes (the rollout creates them); with everything there, nothing is said', async () => {
    await standin.createSecret('glm-api-key', { API_KEY: 'sk-preflight-test' });
    expect(await checkModalResources(spec, standin.env)).toEqual({
      ok: true,
      notes: [
        'platform modal: volume glm51-model-weights does not exist in environment main: the rollout creates it',
        'platform modal: volume glm51-deepgemm-cache does not exist in environment main: the rollout creates it',
      ],
    });
    await standin.createVolume('glm51-model-weights');
    await standin.createVolume('glm51-deepgemm-cache');
    expect(await checkModalResources(spec, standin.env)).toEqual({ ok: true, notes: [] });
  }, 120_000);

  test('a client that cannot list is not ready, with its message and no token in it', async () => {
    const env = { ...standin.env, MODAL_TOKEN_SECRET: 'as-WRONGsecretVALUE12345' };
    const result = await checkModalResources(spec, env);
    expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('Invalid token') });
    expect(JSON.stringify(result)).not.toContain('as-WRONGsecretVALUE12345');
  }, 120_000);
});
