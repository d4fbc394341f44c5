import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import YAML from 'yaml';
import { isProcessAlive } from '../../src/process/process-identity';
import { freePort } from '../../src/net/free-port';
import { waitFor } from '../helpers/wait-for';
import type { Spec } from '../../src/spec/schema';

jest.setTimeout(240_000);

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'glm-ops');

/** The local demo spec, sped up, under a given app name, written to a file in the test's folder. */
function writeSpec(dir: string, name: string, patch: (spec: Spec) => void = () => undefined): string {
  const spec = YAML.parse(fs.readFileSync(path.join(root, 'examples', 'local-demo.yaml'), 'utf8')) as Spec;
  spec.app = name;
  spec.local.timeScale = 0.002;
  spec.health = { startupTimeout: 30, pollInterval: 0.1 };
  patch(spec);
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, YAML.stringify(spec));
  return file;
}

describe('glm-ops rollout | status | abort | rollback as a new user runs them (fresh state folder, embedded stack)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-cli-'));
    env = {
      ...process.env,
      GLM_OPS_HOME: home,
      GLM_OPS_TEMPORAL_PORT: String(await freePort()),
      GLM_OPS_TEMPORAL_UI_PORT: String(await freePort()),
      GLM_OPS_FIXTURE_SIZE_MB: '6',
    };
    for (const key of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_PROFILE',
      'TEMPORAL_CONFIG_FILE',
      'TEMPORAL_API_KEY',
      'HF_ENDPOINT',
    ]) {
      delete env[key];
    }
  });

  afterAll(async () => {
    await execa(cli, ['dev', 'down'], { env, reject: false });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('rolls out from a fresh folder (exit 0), re-runs with everything current, reports status, and rolls back', async () => {
    const spec = writeSpec(home, 'cli-demo');
    const first = await execa(cli, ['rollout', spec, '--follow'], { env, reject: false });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/hub started/);
    expect(first.stdout).toMatch(/platform daemon started/);
    expect(first.stdout).toMatch(/Temporal dev server started/);
    expect(first.stdout).toMatch(/succeeded/);
    expect(first.stdout).toMatch(/pass {2}tool-call/);
    expect(first.stdout).toMatch(
      /history in the Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/rollout%2Fcli-demo\//,
    );
    // The UI's workflow list filtered to the app (`GlmOpsApp`="cli-demo"), printed right after the start.
    const appList =
      /cli-demo's workflows in the Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\?query=%60GlmOpsApp%60%3D%22cli-demo%22\n/;
    expect(first.stdout).toMatch(appList);

    const second = await execa(cli, ['rollout', spec, '--follow'], { env, reject: false });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toMatch(/sentinel valid .* download skipped/);
    expect(second.stdout).toMatch(/marker valid, compile skipped/);
    expect(second.stdout).toMatch(/serving v2 \(previous v1\)/);

    const status = JSON.parse((await execa(cli, ['status', 'cli-demo', '--json'], { env })).stdout);
    expect(status.workflowStatus).toBe('COMPLETED');
    expect(status.phase).toBe('done');
    expect(status.attemptedVersion).toBe(2);
    // The platform's record, the one truth of what serves and of the version last seen passing its gates.
    expect(status).toMatchObject({ servingVersion: 2, lastVerifiedVersion: 2 });

    const back = await execa(cli, ['rollback', 'cli-demo'], { env, reject: false });
    expect(back.exitCode).toBe(0);
    expect(back.stdout).toMatch(/rolled back from v2 to v1/);
    // The rollback verified v1's health and recorded it: the last verified is v1 again.
    const after = await execa(cli, ['status', 'cli-demo'], { env });
    expect(after.stdout.split('\n')[0]).toBe('cli-demo: serving v1, last verified v1 (platform local)');
    expect(after.stdout).toMatch(/rollback after it: v2 → v1/);
  });

  it('exits 2 on a bad spec before anything starts, naming the field and the guide reason', async () => {
    const spec = writeSpec(home, 'cli-bad', (s) => {
      s.sglang.args['kv-cache-dtype'] = 'fp8_e4m3';
    });
    const result = await execa(cli, ['rollout', spec, '--follow'], { env, reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/sglang\.args\.kv-cache-dtype/);
    expect(result.stderr).toMatch(/22359/);
    expect(result.stdout).not.toMatch(/started: workflow/);
  });

  it('exits 1 when the rollout fails: the verdict, the one fix, the diagnosis and the compensation once, in 80 columns', async () => {
    const spec = writeSpec(home, 'cli-oom', (s) => {
      s.local.emulator = { faults: [{ kind: 'crash', at: 'loading', afterMs: 20000, signal: 'SIGKILL', oom: true }] };
    });
    const result = await execa(cli, ['rollout', spec, '--follow'], { env, reject: false });
    expect(result.exitCode).toBe(1);
    // The report leads with the verdict and the one fix, worked out from the spec's mem-fraction-static (0.88).
    const report = result.stderr.slice(result.stderr.indexOf('\nrollout of cli-oom failed')).split('\n').slice(1);
    expect(report[0]).toMatch(/^rollout of cli-oom failed in health after [\d.]+ (s|min) \(EngineCrashed\)$/);
    const fix = report.findIndex((line) => line.startsWith('fix: '));
    expect(report[fix]).toBe('fix: lower --mem-fraction-static 0.88 → 0.85 (sglang.args in the spec)');
    expect(fix).toBeLessThanOrEqual(3);
    expect(report[fix + 1]).toMatch(/^why: CUDA out of memory: SGLang died \(code -9\) — confirmed by a log line/);
    expect(report.filter((line) => line.startsWith('compensation'))).toEqual([
      'compensation: stop the app (there was no previous version) — done',
    ]);
    expect(result.stderr).not.toMatch(/after running fine for hours/);
    // Not a terminal: laid out for 80 columns.
    expect(report.filter((line) => line.length > 80)).toEqual([]);
    expect(report.length).toBeLessThanOrEqual(16);
  });

  it('refuses a second rollout of a running app (exit 3) and aborts the running one', async () => {
    const spec = writeSpec(home, 'cli-slow', (s) => {
      s.local.emulator = { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] };
      s.health.startupTimeout = 120;
    });
    const started = await execa(cli, ['rollout', spec], { env });
    expect(started.stdout).toMatch(/rollout r-\d+-[0-9a-f]+ started/);
    const again = await execa(cli, ['rollout', spec], { env, reject: false });
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toMatch(
      /a rollout of cli-slow is already running \(workflow rollout\/cli-slow, run [0-9a-f-]+\)/,
    );
    const aborted = await execa(cli, ['abort', 'cli-slow', '--reason', 'test abort'], { env, reject: false });
    expect(aborted.exitCode).toBe(0);
    expect(aborted.stdout).toMatch(/abort accepted in phase/);
    expect(aborted.stderr).toMatch(/aborted: test abort/);
  });

  it('status --watch follows a rollout started without --wait to its end (exit 0, the report, what serves after)', async () => {
    const spec = writeSpec(home, 'cli-watch', (s) => {
      // ~30 s of weight loading (240 s × 60 at time scale 0.002): still running when status attaches.
      s.local.emulator = { faults: [{ kind: 'slow-load', factor: 60 }] };
      s.health.startupTimeout = 240;
    });
    const started = await execa(cli, ['rollout', spec], { env });
    expect(started.stdout).toMatch(/follow it with `glm-ops status cli-watch --watch`/);
    const watched = await execa(cli, ['status', 'cli-watch', '--watch'], { env, reject: false });
    expect(watched.stderr).toBe('');
    expect(watched.exitCode).toBe(0);
    const lines = watched.stdout.split('\n');
    expect(lines[0]).toMatch(/^cli-watch: /);
    expect(watched.stdout).toMatch(/cli-watch's workflows in the Temporal UI: http:\/\/127\.0\.0\.1:\d+\//);
    expect(watched.stdout).toMatch(/watching rollout r-\d+-[0-9a-f]+ \(Ctrl-C stops watching, not the rollout\)/);
    // Not a terminal: one line per finished step, then the report, then what serves now.
    expect(watched.stdout).toMatch(/health +done/);
    expect(watched.stdout).toMatch(/rollout r-\d+-[0-9a-f]+ of cli-watch succeeded/);
    expect(lines.filter(Boolean).at(-1)).toBe('cli-watch: serving v1, last verified v1 (platform local)');

    const again = await execa(cli, ['status', 'cli-watch', '--watch'], { env, reject: false });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/\(the last rollout is not running: nothing to watch\)$/);
    const both = await execa(cli, ['status', 'cli-watch', '--watch', '--json'], { env, reject: false });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/--watch shows a live view and --json one snapshot/);
  });

  it('an inconclusive gate pauses; status shows the question; decide promote resumes it and reports who decided', async () => {
    const spec = writeSpec(home, 'cli-decide', (s) => {
      // A prompts file the worker cannot read: the load cannot run, so the gate has no evidence and asks.
      s.slo = {
        ttftP95Ms: 300,
        load: { dataset: { name: 'jsonl', path: path.join(home, 'no-such-prompts.jsonl') } },
        onInconclusive: { timeout: 600, default: 'abort' },
      } as unknown as Spec['slo'];
    });
    const started = await execa(cli, ['rollout', spec], { env });
    expect(started.stdout).toMatch(/rollout r-\d+-[0-9a-f]+ started/);
    let question = '';
    await waitFor(
      async () => {
        question = (await execa(cli, ['status', 'cli-decide'], { env, reject: false })).stdout;
        return /waiting for a decision on v1/.test(question);
      },
      { what: 'the gate question in status', timeoutMs: 180_000, pollMs: 1_000 },
    );
    expect(question).toMatch(/inconclusive: the load could not run: .*no-such-prompts\.jsonl/);
    expect(question).toMatch(/answer: glm-ops decide cli-decide promote\|abort --reason "…"; otherwise abort at /);
    const decided = await execa(
      cli,
      ['decide', 'cli-decide', 'promote', '--reason', 'prompts file lives on the bench host', '--by', 'alice'],
      { env, reject: false },
    );
    expect(decided.stderr).toBe('');
    expect(decided.exitCode).toBe(0);
    expect(decided.stdout).toMatch(
      /^promote accepted \(by alice: prompts file lives on the bench host\); the rollout goes on$/m,
    );
    expect(decided.stdout).toMatch(/rollout r-\d+-[0-9a-f]+ of cli-decide succeeded/);
    expect(decided.stdout).toMatch(/performance +done .*inconclusive, promoted by alice/);
    // Nothing waits any more: a second answer is refused (exit 3), naming why.
    const late = await execa(cli, ['decide', 'cli-decide', 'abort', '--reason', 'too late'], { env, reject: false });
    expect(late.exitCode).toBe(3);
    expect(late.stderr).toMatch(/no running rollout of cli-decide|decision refused/);
  });

  it('a modal spec without Modal credentials fails fast with a one-line fix, before any workflow starts', async () => {
    const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-nomodal-'));
    const modalEnv: NodeJS.ProcessEnv = { ...env, HOME: emptyHome, GLM_OPS_HOME: path.join(emptyHome, 'state') };
    delete modalEnv.MODAL_TOKEN_ID;
    delete modalEnv.MODAL_TOKEN_SECRET;
    const result = await execa(cli, ['rollout', path.join(root, 'examples', 'glm-5.1-b200.yaml')], {
      env: modalEnv,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/platform modal: .*(MODAL_TOKEN_ID|modal token new)/);
    expect(fs.existsSync(path.join(emptyHome, 'state', 'dev'))).toBe(false);
    fs.rmSync(emptyHome, { recursive: true, force: true });
  });

  it('dev down leaves no process of ours running (Temporal, worker, hub, platform daemon)', async () => {
    const status = JSON.parse((await execa(cli, ['dev', 'status', '--json'], { env })).stdout);
    const pids = [status.temporal?.pid, status.worker?.pid, status.hub?.pid].filter(Boolean) as number[];
    expect(pids.length).toBe(3);
    const daemonPid = Number(fs.readFileSync(path.join(home, 'platform', 'daemon.pid'), 'utf8'));
    await execa(cli, ['dev', 'down'], { env });
    expect([...pids, daemonPid].filter(isProcessAlive)).toEqual([]);
  });
});
