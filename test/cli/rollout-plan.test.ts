import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import YAML from 'yaml';
import { Connection, WorkflowClient, WorkflowNotFoundError } from '@temporalio/client';
import { freePort } from '../../src/net/free-port';
import type { RolloutPlan } from '../../src/cli/rollout-plan';
import type { Spec } from '../../src/spec/schema';
import { builtCliEntry } from '../helpers/built-lib';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '../..');

/** The local demo spec, sped up, under a given app name, written to a file in the test's folder. */
function writeSpec(dir: string, file: string, patch: (spec: Spec) => void = () => undefined): string {
  const spec = YAML.parse(fs.readFileSync(path.join(root, 'examples', 'local-demo.yaml'), 'utf8')) as Spec;
  spec.app = 'plan-demo';
  spec.local.timeScale = 0.002;
  spec.health = { startupTimeout: 30, pollInterval: 0.1 };
  patch(spec);
  const target = path.join(dir, file);
  fs.writeFileSync(target, YAML.stringify(spec));
  return target;
}

/** Every file under a folder with its size and mtime: what a download, a compile or a commit would change. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      const stat = fs.statSync(file);
      return `${path.relative(dir, file)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

interface PhaseLine {
  name: string;
  state: string;
  detail?: string;
}

describe('glm-ops rollout SPEC --plan (fresh state folder, embedded stack, real worker and platform)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let temporalPort: number;
  const cli = (...args: string[]) => execa(process.execPath, [builtCliEntry(), ...args], { env, reject: false });
  const plan = async (spec: string): Promise<RolloutPlan> => {
    const run = await cli('rollout', spec, '--plan', '--json');
    expect(run.exitCode).toBe(0);
    return JSON.parse(run.stdout) as RolloutPlan;
  };
  const step = (p: RolloutPlan, name: string) => p.steps.find((s) => s.name === name)!;
  /** The run id of the app's rollout workflow, or null when none was ever started. */
  const rolloutRunId = async (): Promise<string | null> => {
    const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    try {
      const described = await new WorkflowClient({ connection })
        .getHandle('rollout/plan-demo')
        .describe()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return null;
          throw err;
        });
      return described?.runId ?? null;
    } finally {
      await connection.close();
    }
  };
  const phasesOfLastRollout = async (): Promise<{ phases: PhaseLine[]; attemptedVersion: number }> => {
    const status = await cli('status', 'plan-demo', '--json');
    expect(status.exitCode).toBe(0);
    return JSON.parse(status.stdout) as { phases: PhaseLine[]; attemptedVersion: number };
  };
  /** What the plan said, as the rollout's phases say it: run → done, skip → skipped. */
  const expectedPhases = (p: RolloutPlan) =>
    p.steps.map((s) => ({ name: s.name, state: s.action === 'skip' ? 'skipped' : 'done' }));

  beforeAll(async () => {
    builtCliEntry();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-plan-'));
    temporalPort = await freePort();
    env = {
      ...process.env,
      GLM_OPS_HOME: home,
      GLM_OPS_TEMPORAL_PORT: String(temporalPort),
      GLM_OPS_TEMPORAL_UI_PORT: String(await freePort()),
      GLM_OPS_FIXTURE_SIZE_MB: '6',
    };
    for (const key of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_PROFILE',
      'TEMPORAL_CONFIG_FILE',
      'TEMPORAL_API_KEY',
      'HF_ENDPOINT',
      'GLM_OPS_TASK_QUEUE',
    ]) {
      delete env[key];
    }
  });

  afterAll(async () => {
    await execa(process.execPath, [builtCliEntry(), 'dev', 'down'], { env, reject: false });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('plans a fresh state (download, compile, v1) and a current one (skips, v2, the one changed flag), as the real runs then do, changing nothing', async () => {
    const volumes = path.join(home, 'volumes');
    const spec = writeSpec(home, 'plan-demo.yaml');

    // Fresh: nothing downloaded, compiled or deployed.
    const fresh = await plan(spec);
    expect(step(fresh, 'weights').action).toBe('run');
    expect(step(fresh, 'weights').why).toMatch(/^download: weights missing/);
    expect(step(fresh, 'kernels').action).toBe('run');
    expect(step(fresh, 'kernels').why).toMatch(/^compile DeepGEMM on 8×B200: marker missing/);
    expect(fresh.nextVersion).toBe(1);
    expect(fresh.servingVersion).toBeUndefined();
    expect(fresh.flagChanges).toEqual([]);
    expect(step(fresh, 'performance').action).toBe('run');
    // The download has no duration in the guide, nor has a gate load given as a request count; the GPU steps are priced.
    expect(fresh.unestimated).toEqual(['weights', 'performance']);
    expect(fresh.cost).toMatchObject({ priceSource: 'catalog' });
    expect(step(fresh, 'weights').gpuHours).toEqual({ low: 0, high: 0 });
    expect(step(fresh, 'kernels').gpuHours.low).toBeGreaterThan(0);
    // No side effect: no weights or kernels written, no rollout workflow.
    expect(filesUnder(volumes)).toEqual([]);
    expect(await rolloutRunId()).toBeNull();

    // The real rollout agrees: download and compile ran, v1 was deployed.
    const first = await cli('rollout', spec, '--follow');
    expect(first.exitCode).toBe(0);
    const afterFirst = await phasesOfLastRollout();
    expect(afterFirst.attemptedVersion).toBe(fresh.nextVersion);
    expect(afterFirst.phases.map(({ name, state }) => ({ name, state }))).toEqual(expectedPhases(fresh));
    expect(afterFirst.phases.find((p) => p.name === 'weights')!.detail).toMatch(/^downloaded \d+ files/);
    expect(afterFirst.phases.find((p) => p.name === 'kernels')!.detail).toMatch(/^compiled; marker written/);

    // Current: weights and kernels skipped, v2 would be created, nothing differs from v1.
    const volumesBefore = filesUnder(volumes);
    expect(volumesBefore.length).toBeGreaterThan(0);
    const runBefore = await rolloutRunId();
    const current = await plan(spec);
    expect(step(current, 'weights')).toMatchObject({ action: 'skip' });
    expect(step(current, 'weights').why).toMatch(
      /^sentinel valid \(\d+ files, commit [0-9a-f]{12}\): download skipped/,
    );
    expect(step(current, 'kernels')).toMatchObject({ action: 'skip' });
    expect(step(current, 'kernels').why).toBe(
      'marker valid for B200 (sm100) and lmsysorg/sglang:v0.5.10: compile skipped',
    );
    expect(current.nextVersion).toBe(2);
    expect(current.servingVersion).toBe(1);
    expect(current.flagChanges).toEqual([]);
    expect(step(current, 'deploy').why).toBe(
      'new version v2 (v1 serves now; nothing differs from it, and a rollout deploys anyway)',
    );
    expect(current.unestimated).toEqual(['performance']);

    // The text form says the same, and the lint findings as `spec check` prints them.
    const text = await cli('rollout', spec, '--plan');
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^ {2}weights +skip {2}sentinel valid/m);
    expect(text.stdout).toMatch(/^ {2}kernels +skip {2}marker valid for B200/m);
    expect(text.stdout).toMatch(/^version: would deploy v2 \(serving now: v1\)$/m);
    expect(text.stdout).toMatch(/^changes against v1: none$/m);
    expect(text.stdout).toMatch(/^ {2}ack {5}model\.revision/m);
    expect(text.stdout).toMatch(/^cost: ~\$\d+\.\d\d–\$\d+\.\d\d \(/m);

    // One flag changed in a copy of the spec: exactly that flag is listed.
    const changed = writeSpec(home, 'plan-demo-changed.yaml', (s) => {
      s.sglang.args['watchdog-timeout'] = 1500;
    });
    const withChange = await plan(changed);
    expect(withChange.flagChanges).toEqual([{ path: 'sglang.args.watchdog-timeout', from: 1200, to: 1500 }]);
    expect(step(withChange, 'deploy').why).toBe('new version v2 (v1 serves now; 1 field(s) differ from it)');

    // No side effect of the three plans: the same files, the same rollout run, v1 still serving.
    expect(filesUnder(volumes)).toEqual(volumesBefore);
    expect(await rolloutRunId()).toBe(runBefore);
    const status = JSON.parse((await cli('status', 'plan-demo', '--json')).stdout) as { servingVersion: number };
    expect(status.servingVersion).toBe(1);

    // The real rollout agrees: weights and kernels skipped, v2 deployed.
    const second = await cli('rollout', spec, '--follow');
    expect(second.exitCode).toBe(0);
    const afterSecond = await phasesOfLastRollout();
    expect(afterSecond.attemptedVersion).toBe(current.nextVersion);
    expect(afterSecond.phases.map(({ name, state }) => ({ name, state }))).toEqual(expectedPhases(current));
    expect(afterSecond.phases.find((p) => p.name === 'weights')!.detail).toMatch(/^sentinel valid/);
    expect(afterSecond.phases.find((p) => p.name === 'kernels')!.detail).toMatch(/^marker valid, compile skipped/);
  });

  it('refuses a spec the rollout would refuse (exit 2) without reading or starting anything', async () => {
    const spec = writeSpec(home, 'plan-bad.yaml', (s) => {
      s.sglang.args['kv-cache-dtype'] = 'fp8_e4m3';
    });
    const run = await cli('rollout', spec, '--plan');
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/sglang\.args\.kv-cache-dtype/);
    expect(run.stderr).toMatch(/the rollout would refuse this spec before any step runs/);
    expect(run.stdout).not.toMatch(/plan for a rollout/);
  });
});
