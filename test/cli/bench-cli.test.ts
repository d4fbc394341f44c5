import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import type { EmulatorHandle } from '../../src/emulator';
import { builtCliEntry } from '../helpers/built-lib';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';
import { REPO_ROOT } from '../helpers/repo-files';

// `glm-ops bench URL` (the built CLI) against an in-process emulator: the table, bench_serving's JSON keys as Python
// reads them, the HTML report, and the flags it refuses.
const oracle = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'loadgen', 'bench-serving-cases.json'), 'utf8'),
) as { oracle: { resultKeys: string[] } };
const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');

describe('glm-ops bench', () => {
  let emulator: EmulatorHandle;
  let dir: string;
  const bench = (args: string[]) =>
    execa(process.execPath, [builtCliEntry(), 'bench', ...args], {
      reject: false,
      env: { ...process.env, BENCH_TEST_KEY: TEST_API_KEY },
    });
  const small = ['--random-input-len', '32', '--random-output-len', '8', '--num-prompts', '6'];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-cli-'));
    emulator = await startTestEmulator({ config: { phases: { weightLoadMs: 0, graphCaptureMs: 0 } } });
  }, 60_000);
  afterAll(async () => emulator?.close());

  test("prints bench_serving's table and writes a self-contained report", async () => {
    const report = path.join(dir, 'report.html');
    const run = await bench([
      emulator.url,
      '--api-key-env',
      'BENCH_TEST_KEY',
      ...small,
      '--concurrency',
      '3',
      '--report',
      report,
    ]);
    expect({ code: run.exitCode, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(run.stdout).toContain('============ Serving Benchmark Result ============');
    expect(run.stdout).toMatch(/Successful requests:\s+6\n/);
    expect(run.stdout).toMatch(/Max request concurrency:\s+3\n/);
    expect(run.stdout).toMatch(/Total generated tokens:\s+\d+\n/);
    expect(run.stdout).toMatch(/P95 TTFT \(ms\):\s+\d+\.\d\d\n/);
    expect(run.stdout).toContain('model glm-5.1'); // found through /v1/models
    expect(run.stdout).not.toContain(TEST_API_KEY);
    const html = fs.readFileSync(report, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('TTFT against load');
    // One file: no script, stylesheet, image or font fetched from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(|@import/);
  }, 120_000);

  test('--sweep runs one at a time, then all at once, then rates between; one JSON line and one curve point each', async () => {
    const report = path.join(dir, 'sweep.html');
    // Requests at a fifth of the guide's latencies (~50 ms prefill, ~1.5 ms a token): the client's own overhead is
    // small beside them, so all at once really outruns one at a time, and the sweep has rates to place between.
    const timed = await startTestEmulator({
      config: { phases: { weightLoadMs: 0, graphCaptureMs: 0 }, timing: { timeScale: 0.2 } },
    });
    const run = await bench([
      timed.url,
      '--api-key-env',
      'BENCH_TEST_KEY',
      ...['--random-input-len', '32', '--random-output-len', '96', '--num-prompts', '8'],
      '--sweep',
      '--json',
      '--report',
      report,
    ]).finally(() => timed.close());
    expect(run.exitCode).toBe(0);
    const levels = run.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            max_concurrency: number | null;
            request_rate: number | 'inf';
            completed: number;
            request_throughput: number;
          },
      );
    expect(levels[0]).toMatchObject({ max_concurrency: 1, request_rate: 'inf', completed: 8 });
    expect(levels[1]).toMatchObject({ max_concurrency: null, request_rate: 'inf', completed: 8 });
    // All at once outruns one at a time on the emulator, so the four Poisson rates fall strictly between the two.
    const [low, high] = [levels[0]!.request_throughput, levels[1]!.request_throughput];
    expect(high).toBeGreaterThan(low);
    const rates = levels.slice(2).map((level) => level.request_rate as number);
    expect(rates).toHaveLength(4);
    expect(rates.every((rate) => rate > low && rate < high)).toBe(true);
    expect([...rates].sort((a, b) => a - b)).toEqual(rates);
    expect(run.stderr).toMatch(/sweep 6\/6 \(rate [\d.]+\/s\)/);
    const html = fs.readFileSync(report, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('measured concurrency (Σ E2E / duration)');
    expect(html.match(/<h2>/g)).toHaveLength(6);
  }, 180_000);

  test("--json prints one line with bench_serving's keys, which Python loads", async () => {
    const out = path.join(dir, 'lines.jsonl');
    const run = await bench([
      emulator.url,
      '--api-key-env',
      'BENCH_TEST_KEY',
      ...small,
      '--json',
      '--output-file',
      out,
    ]);
    expect(run.exitCode).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(`${run.stdout}\n`);
    const python = await execa(PYTHON, [
      '-c',
      'import json,sys; d=json.loads(open(sys.argv[1]).read()); print(json.dumps({"keys": sorted(d), "completed": d["completed"], "rate": d["request_rate"]}))',
      out,
    ]);
    const loaded = JSON.parse(python.stdout) as { keys: string[]; completed: number; rate: unknown };
    expect(loaded.completed).toBe(6);
    expect(loaded.rate).toBe('inf');
    // Every key bench_serving writes is there; glm-ops adds `failed` and the ITL max.
    const missing = oracle.oracle.resultKeys.filter((k) => !loaded.keys.includes(k));
    expect(missing).toEqual([]);
    expect(loaded.keys.filter((k) => !oracle.oracle.resultKeys.includes(k)).sort()).toEqual(['failed', 'max_itl_ms']);
  }, 120_000);

  test.each([
    [['--num-prompts', '0'], /--num-prompts must be an integer >= 1, got "0"/],
    [['--request-rate', 'fast'], /--request-rate must be a number > 0 or inf, got "fast"/],
    [['--random-range-ratio', '1.5'], /--random-range-ratio must be a number in \[0, 1\], got "1.5"/],
    [['--dataset-name', 'sharegpt'], /--dataset-name sharegpt needs --dataset-path FILE/],
    [['--dataset-name', 'movies'], /--dataset-name <name>' argument 'movies' is invalid/],
    [['--sweep', '--concurrency', '4'], /--sweep chooses the load itself/],
    [['--concurrency', '4', '--max-concurrency', '8'], /--concurrency 4 and --max-concurrency 8 disagree/],
    [['--api-key-env', 'GLM_BENCH_UNSET_VARIABLE'], /--api-key-env GLM_BENCH_UNSET_VARIABLE: that variable is not set/],
  ])('%p exits 2, naming the flag', async (args, message) => {
    const run = await bench(['http://127.0.0.1:9/v1', ...args]);
    expect({ code: run.exitCode, stderr: run.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
  });

  // A dotted name, like the demo's glm-5.1-local-demo: an app name, not a malformed URL.
  test('an app name with no platform daemon running says how to start it', async () => {
    const run = execa(process.execPath, [builtCliEntry(), 'bench', 'no-such-app.v5-1'], {
      reject: false,
      env: { ...process.env, GLM_OPS_HOME: dir },
    });
    const result = await run;
    expect({ code: result.exitCode, stderr: result.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/the local platform daemon is not running .*glm-ops platform up/),
    });
  }, 60_000);
});
