import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { freePort } from '../../src/net/free-port';
import { parseSpecText } from '../../src/spec/parse-spec';
import type { TuneResult } from '../../src/shared/tune-types';
import type { TuneOutputs } from '../../src/cli/tune-outputs';
import { builtCliEntry } from '../helpers/built-lib';
import { readRepoFile } from '../helpers/repo-files';

// A hang guard, not a budget: up to 12 trials, each a deploy, a health wait, a warm-up and a load at the guide's
// request latencies, then a rollout, on a machine that runs two suites at once.
jest.setTimeout(1_500_000);

const LEVER_KEYS = ['max-running-requests:', 'mem-fraction-static:', 'speculative-algorithm:'];

/**
 * `glm-ops tune` as a user runs it on the embedded stack: a copy of examples/local-demo.yaml (its comments and its
 * `tune:` section as written; the app renamed, and the SLO's TTFT ceiling relaxed so that a trial on a loaded test
 * machine can meet it: the test is about the answer reaching the product, not about the twin's figures), tuned with
 * --write, then the patched copy rolled out through its performance gate.
 */
describe('glm-ops tune on the embedded stack: the demo space, the report, the patch, and the patched rollout', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let specFile: string;
  let original: string;
  const reportDir = (): string => path.join(home, 'reports', 'e2e');
  const cli = (args: string[]) =>
    execa(process.execPath, [builtCliEntry(), ...args], { env, cwd: home, reject: false });

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-tune-cli-'));
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
    ])
      delete env[key];
    const demo = readRepoFile('examples/local-demo.yaml');
    original = demo
      .replace(/^app: glm-5\.1-local-demo$/m, 'app: tune-e2e')
      .replace(/^slo: \{ ttftP95Ms: 300 \}$/m, 'slo: { ttftP95Ms: 120000 }   # relaxed for a loaded test machine');
    expect(original).toMatch(/^app: tune-e2e$/m);
    expect(original).toMatch(/^slo: \{ ttftP95Ms: 120000 \}/m);
    specFile = path.join(home, 'local-demo.yaml');
    fs.writeFileSync(specFile, original);
  });

  afterAll(async () => {
    await cli(['dev', 'down']);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('tunes, writes the report and the patch, patches the spec in place (only the levers), and the patched rollout passes its gate', async () => {
    const run = await cli(['tune', specFile, '--write', '--report', reportDir(), '--json']);
    expect({ exitCode: run.exitCode, stderrTail: run.exitCode === 0 ? '' : run.stderr.slice(-2000) }).toEqual({
      exitCode: 0,
      stderrTail: '',
    });
    expect(run.stderr).toMatch(/tune started: workflow tune\/tune-e2e\/\d{4}-\d\d-\d\dT/);
    expect(run.stderr).toMatch(/^trials: \d+ done/m);
    const { result, outputs } = JSON.parse(run.stdout) as { result: TuneResult; outputs: TuneOutputs };

    // The search ran trials of the demo's space, within its budget; 0.95 OOMs on B200 and is a result, not a failure.
    expect(result.gridSize).toBe(18);
    expect(['finished', 'budget-exhausted']).toContain(result.state);
    expect(result.trials.length).toBeGreaterThan(0);
    expect(result.trials.length).toBeLessThanOrEqual(12);
    expect(result.trials.filter((t) => t.outcome === 'failed')).toEqual([]);
    for (const trial of result.trials.filter((t) => t.candidate.args['mem-fraction-static'] === 0.95)) {
      expect({ key: trial.key, outcome: trial.outcome }).toEqual({ key: trial.key, outcome: 'infeasible' });
      expect(trial.reason).toMatch(/out of memory/i);
    }
    expect(result.trials.every((t) => t.isTornDown)).toBe(true);

    // The chosen point is the measured trial with the most throughput among those meeting the SLO.
    const meeting = result.trials.filter((t) => t.outcome === 'measured' && t.meetsSlo);
    expect(meeting.length).toBeGreaterThan(0);
    const best = Math.max(...meeting.map((t) => t.objectiveValue!));
    expect(result.chosen).not.toBeNull();
    expect(result.chosen!.objectiveValue).toBe(best);

    // The report, the plot, the result and the patched copy.
    expect(fs.readdirSync(reportDir()).sort()).toEqual([
      'local-demo.tuned.yaml',
      'report.md',
      'result.json',
      'throughput-vs-ttft.svg',
    ]);
    const report = fs.readFileSync(path.join(reportDir(), 'report.md'), 'utf8');
    expect(report).toContain(`**${result.trials.length} trial(s) of a grid of 18 point(s)**`);
    for (const trial of result.trials)
      expect(report).toContain(`| ${trial.index} | \`${trial.key}\` | ${trial.outcome}`);
    expect(report).toContain(`**#${result.chosen!.index} \`${result.chosen!.key}\`**`);
    expect(report).toMatch(/\| Always-on \(min_containers=1\) \| 720 \| \$36,000 \|/);
    const svg = fs.readFileSync(path.join(reportDir(), 'throughput-vs-ttft.svg'), 'utf8');
    const measured = result.trials.filter((t) => t.outcome === 'measured');
    expect(
      [...svg.matchAll(/font-size="10" fill="[^"]+">#(\d+)</g)].map((m) => Number(m[1])).sort((a, b) => a - b),
    ).toEqual(measured.map((t) => t.index));
    expect(JSON.parse(fs.readFileSync(path.join(reportDir(), 'result.json'), 'utf8'))).toEqual(result);

    // --write: the spec holds the chosen values, every other line (comments, alignment) exactly as it was.
    const patched = fs.readFileSync(specFile, 'utf8');
    expect(fs.readFileSync(path.join(reportDir(), 'local-demo.tuned.yaml'), 'utf8')).toBe(patched);
    expect(outputs.patch!.isWritten).toBe(outputs.patch!.changes.length > 0);
    const parsed = parseSpecText(patched);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    for (const [flag, value] of Object.entries(result.chosen!.candidate.args)) {
      expect({ flag, value: parsed.spec.sglang.args[flag] ?? false }).toEqual({ flag, value });
    }
    const before = original.split('\n');
    const after = patched.split('\n');
    expect(after.length).toBe(before.length);
    const changed = before.flatMap((line, i) => (line === after[i] ? [] : [line.trim()]));
    expect(changed.length).toBe(outputs.patch!.changes.length);
    for (const line of changed) expect(LEVER_KEYS.some((key) => line.startsWith(key))).toBe(true);

    // status reads the same tune; nothing is running, so abort is refused.
    const status = await cli(['tune', 'status', 'tune-e2e', '--json']);
    expect(status.exitCode).toBe(0);
    const seen = JSON.parse(status.stdout) as TuneResult;
    expect({ id: seen.tuneId, state: seen.state, trials: seen.trials.length, chosen: seen.chosen?.key }).toEqual({
      id: result.tuneId,
      state: result.state,
      trials: result.trials.length,
      chosen: result.chosen!.key,
    });
    const abort = await cli(['tune', 'abort', 'tune-e2e', '--reason', 'already over']);
    expect(abort.exitCode).toBe(3);
    expect(abort.stderr).toMatch(/no running tune of tune-e2e/);

    // The patched spec rolls out and its performance gate enforces the SLO at the chosen config.
    const rollout = await cli(['rollout', specFile, '--wait']);
    expect({ exitCode: rollout.exitCode, stderr: rollout.exitCode === 0 ? '' : rollout.stderr.slice(-2000) }).toEqual({
      exitCode: 0,
      stderr: '',
    });
    expect(rollout.stdout).toMatch(/performance gate: pass/);
  });
});
