import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { stringify } from 'yaml';
import { builtCliEntry } from '../helpers/built-lib';
import { compiledMarker, downloadedWeights } from '../helpers/modal-fixtures';
import { type ModalStandin, startModalStandin } from '../helpers/modal-standin';
import { exampleSpec } from '../helpers/test-spec';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '../..');

/**
 * `glm-ops verify` on a Modal spec reads the Modal volumes through the Modal adapter (the real pinned client against
 * the stand-in control plane), or refuses in one line; it never reports this machine's directories for Modal.
 */
describe('glm-ops verify on a Modal spec', () => {
  let home: string;
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-verify-modal-'));
  });
  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  const verify = (args: string[], env: NodeJS.ProcessEnv) =>
    execa(process.execPath, [builtCliEntry(), 'verify', ...args], { env, reject: false });

  it('without Modal credentials: one line naming the fix, exit 2, no local volume reported', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, GLM_OPS_HOME: path.join(home, 'state') };
    for (const key of ['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET', 'MODAL_CONFIG_PATH', 'MODAL_SERVER_URL'])
      delete env[key];
    const run = await verify([path.join(root, 'examples', 'glm-5.1-b200.yaml')], env);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^glm-ops: cannot verify .* on platform modal: no Modal credentials: .*modal token new/);
  });

  describe('with the stand-in control plane', () => {
    let standin: ModalStandin;
    beforeAll(async () => {
      standin = await startModalStandin();
    });
    afterAll(async () => {
      await standin?.stop();
    });

    it('reads the volumes with the modal client: missing, then valid once the sentinel and the marker are there', async () => {
      const spec = exampleSpec(`verify-modal-${process.pid}`, (s) => {
        s.volumes = { weights: `vw-${process.pid}`, kernels: `vk-${process.pid}` };
      });
      await standin.createVolume(spec.volumes.weights);
      await standin.createVolume(spec.volumes.kernels);
      const file = path.join(home, 'modal-spec.yaml');
      fs.writeFileSync(file, stringify(spec));
      const env: NodeJS.ProcessEnv = { ...standin.env, GLM_OPS_HOME: path.join(home, 'state-standin') };

      const before = await verify([file], env);
      expect(before.stderr).toBe('');
      expect(before.exitCode).toBe(1);
      expect(before.stdout).toContain(
        `platform modal: volumes ${spec.volumes.weights} and ${spec.volumes.kernels} in environment ${spec.environment}, read with the modal client`,
      );
      expect(before.stdout).toMatch(/^weights: missing$/m);
      expect(before.stdout).toMatch(/^kernels: missing$/m);
      // Nothing of this machine's state folder is reported for a Modal volume.
      expect(before.stdout).not.toContain(home);

      const weights = downloadedWeights(spec);
      for (const write of weights.writes) {
        await standin.putFile(write.volume, write.path, write.text ?? JSON.stringify(write.json));
      }
      const marker = compiledMarker(spec, 'r-verify', weights.commit);
      await standin.putFile(marker.volume, marker.path, JSON.stringify(marker.json));

      const after = await verify([file, '--json'], env);
      expect(after.stderr).toBe('');
      expect(after.exitCode).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({
        app: spec.app,
        isReady: true,
        weights: { state: 'valid', commit: weights.commit, fileCount: 2 },
        kernels: { state: 'valid' },
      });
    });
  });
});
