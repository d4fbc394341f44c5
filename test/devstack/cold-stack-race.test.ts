import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import YAML from 'yaml';
import { commandLine } from '../../src/devstack/process-control';
import { freePort } from '../../src/net/free-port';
import { findProcessesWithMarker } from '../../src/process/process-identity';
import type { Spec } from '../../src/spec/schema';
import { builtCliEntry } from '../helpers/built-lib';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'glm-ops');

/** Live processes started for this state folder (every one inherits GLM_OPS_HOME), with their command lines. */
function stackProcesses(home: string): { pid: number; command: string }[] {
  return findProcessesWithMarker('GLM_OPS_HOME', home).map((pid) => ({ pid, command: commandLine(pid) ?? '' }));
}

describe('cold-stack start-up is serialized (two CLI invocations at once, nothing running yet)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    builtCliEntry();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-race-'));
    env = {
      ...process.env,
      GLM_OPS_HOME: home,
      GLM_OPS_TEMPORAL_PORT: String(await freePort()),
      GLM_OPS_TEMPORAL_UI_PORT: String(await freePort()),
      GLM_OPS_HUB_PORT: String(await freePort()),
      GLM_OPS_FIXTURE_SIZE_MB: '6',
    };
    for (const key of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_PROFILE',
      'TEMPORAL_CONFIG_FILE',
      'TEMPORAL_API_KEY',
      'HF_ENDPOINT',
    ])
      delete env[key];
  });

  afterAll(async () => {
    await execa(cli, ['dev', 'down'], { env, reject: false });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('two rollouts of one app: one stack (one hub, one server, one worker), exit codes 0 and 3, and `dev down` leaves nothing alive', async () => {
    const spec = YAML.parse(fs.readFileSync(path.join(root, 'examples', 'local-demo.yaml'), 'utf8')) as Spec;
    spec.app = 'race-demo';
    // Long enough (a scaled start-up of ~10 s) that the second start finds the first rollout still running.
    spec.local.timeScale = 0.01;
    const specFile = path.join(home, 'race-demo.yaml');
    fs.writeFileSync(specFile, YAML.stringify(spec));

    const runs = await Promise.all(
      [0, 1].map(() => execa(cli, ['rollout', specFile, '--wait'], { env, reject: false })),
    );
    const byCode = [...runs].sort((a, b) => a.exitCode - b.exitCode);
    expect(byCode.map((run) => run.exitCode)).toEqual([0, 3]);
    expect(byCode[0]!.stdout).toMatch(/rollout r-\S+ of race-demo succeeded/);
    expect(byCode[1]!.stderr).toMatch(/a rollout of race-demo is already running \(workflow rollout\/race-demo/);
    expect(runs.map((run) => run.stdout).join('\n')).toMatch(/waiting for pid \d+ \(another glm-ops\)/);

    const running = stackProcesses(home);
    const count = (fragment: string) => running.filter((p) => p.command.includes(fragment)).length;
    expect({ hubs: count('hub serve'), servers: count('server start-dev'), workers: count(' worker ') }).toEqual({
      hubs: 1,
      servers: 1,
      workers: 1,
    });

    const down = await execa(cli, ['dev', 'down'], { env, reject: false });
    expect(down.exitCode).toBe(0);
    // Engines included: every process the stack started carries this state folder in its environment.
    await waitFor(() => stackProcesses(home).length === 0, { what: 'the stack gone', timeoutMs: 30_000 }).catch(
      () => undefined,
    );
    expect(stackProcesses(home)).toEqual([]);
  });
});
