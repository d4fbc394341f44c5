import execa from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ModalStandin, startModalStandin } from '../../helpers/modal-standin';

/**
 * `glm-ops rollout` of a modal spec checks, with the real client against the stand-in, that the API-key secret exists
 * before anything starts: exit 2, one line, no dev stack, no workflow.
 */
jest.setTimeout(180_000);

const root = path.join(__dirname, '..', '..', '..');
const cli = path.join(root, 'bin', 'glm-ops');

let standin: ModalStandin;
beforeAll(async () => {
  standin = await startModalStandin();
});
afterAll(async () => {
  await standin?.stop();
});

test('a modal spec whose API-key secret does not exist fails before any workflow, with one line and exit 2', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-preflight-cli-'));
  try {
    const env: NodeJS.ProcessEnv = { ...standin.env, GLM_OPS_HOME: path.join(home, 'state') };
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE'])
      delete env[name];
    const result = await execa(cli, ['rollout', path.join(root, 'examples', 'glm-5.1-b200.yaml')], {
      env,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'glm-ops: platform modal: secret glm-api-key (secrets.apiKey) does not exist in Modal environment main: ' +
        'run `modal secret create glm-api-key API_KEY=<key> --env main`',
    ]);
    expect(fs.existsSync(path.join(home, 'state', 'dev'))).toBe(false);
    const state = await standin.control<{ apps: unknown[] }>('GET', '/state');
    expect(state.apps).toEqual([]);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
