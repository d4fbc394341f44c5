import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtCliEntry } from '../helpers/built-lib';
import { COMPILE_WARNINGS } from '../../src/triage/compile-warnings';
import { diagnose, hasFindings, TRIAGE_RULES } from '../../src/triage/diagnose';
import type { LinePattern } from '../../src/triage/triage-rule';
import { recordedExitCode, recordedRuns, serverLines } from '../helpers/sglang-recordings';

// Every triage pattern, run over what the real SGLang 0.5.17 server printed (test/fixtures/sglang-real).

const RUNS = recordedRuns();
const REAL_LINES = [...new Set(RUNS.flatMap((run) => serverLines(run)))];

/**
 * Real lines with their values changed the way a misconfigured or loaded server would print them: the recorded runs
 * were healthy and idle, so a queue or a missing parser is shown by editing a number or a value in a real line.
 */
const VALUE_EDITS: ReadonlyArray<[RegExp, string]> = [
  [/#queue-req: 0/, '#queue-req: 3'],
  [/tool_call_parser='glm47'/, 'tool_call_parser=None'],
  [/reasoning_parser='glm45'/, 'reasoning_parser=None'],
];
const EDITED_LINES = REAL_LINES.flatMap((line) =>
  VALUE_EDITS.filter(([from]) => from.test(line)).map(([from, to]) => line.replace(from, to)),
);
// The recorded /metrics text: a queue gauge line with the recorded wording and a queue of 2.
const METRIC_LINE =
  'sglang:num_queue_reqs{engine_type="unified",model_name="glm-4.7",moe_ep_rank="0",pp_rank="0",tp_rank="0"} 2.0';

/** Lines glm-ops itself prints, which some §17 rows are about. */
const GLM_OPS_LINES = [
  '[health] passed on attempt 1',
  '[health] passed on attempt 17',
  '[monitor] FATAL: SGLang died (code -9)',
  '[monitor] container exits (os._exit(1)); replacement in 1000 ms',
  '[warmup] tool-call failed: HTTP 500',
  'DeepGEMM / compile success',
  'python3 -m sglang.launch_server --model-path /m --kv-cache-dtype fp8_e4m3',
];

interface NamedPattern {
  where: string;
  pattern: LinePattern;
}

function allPatterns(): NamedPattern[] {
  const named: NamedPattern[] = [];
  for (const rule of TRIAGE_RULES) {
    (rule.logPatterns ?? []).forEach((pattern, i) => named.push({ where: `${rule.id} logPatterns[${i}]`, pattern }));
    (rule.contextPatterns ?? []).forEach((pattern, i) =>
      named.push({ where: `${rule.id} contextPatterns[${i}]`, pattern }),
    );
  }
  for (const row of COMPILE_WARNINGS) named.push({ where: `§12 row ${row.row} (${row.id})`, pattern: row.pattern });
  // The §12 rows are also rules in TRIAGE_RULES: keep one entry per pattern object.
  return named.filter((entry, i) => named.findIndex((other) => other.pattern === entry.pattern) === i);
}

test('the recordings are there: every run has server lines', () => {
  expect(RUNS.length).toBeGreaterThanOrEqual(11);
  for (const run of RUNS) expect(serverLines(run).length).toBeGreaterThan(5);
});

test('every pattern that claims SGLang wording matches a line the real server printed', () => {
  const unmatched = allPatterns()
    .filter(({ pattern }) => !pattern.provenance)
    .filter(({ pattern }) => ![...REAL_LINES, ...EDITED_LINES, METRIC_LINE].some((line) => pattern.test(line)))
    .map(({ where }) => where);
  expect(unmatched).toEqual([]);
});

test('the healthy recorded lines do not trip the parser rules (they only fire on an edited value)', () => {
  const parserRules = TRIAGE_RULES.filter((r) => r.id === 'tool-calls-malformed' || r.id === 'reasoning-empty');
  expect(parserRules).toHaveLength(2);
  for (const rule of parserRules) {
    expect(REAL_LINES.some((line) => rule.logPatterns!.some((p) => p.test(line)))).toBe(false);
    expect(EDITED_LINES.some((line) => rule.logPatterns!.some((p) => p.test(line)))).toBe(true);
  }
});

test('patterns from the guide, from glm-ops or from the emulator match no recorded SGLang line, and say why', () => {
  const marked = allPatterns().filter(({ pattern }) => pattern.provenance);
  expect(marked.length).toBeGreaterThan(10);
  for (const { where, pattern } of marked) {
    expect({ where, note: pattern.provenance!.note.length > 10 }).toEqual({ where, note: true });
    expect({ where, matches: REAL_LINES.filter((line) => pattern.test(line)).slice(0, 1) }).toEqual({
      where,
      matches: [],
    });
  }
  const ownPatterns = marked.filter(({ pattern }) => pattern.provenance!.kind === 'glm-ops');
  for (const { where, pattern } of ownPatterns)
    expect({ where, matchesOwnLine: GLM_OPS_LINES.some((line) => pattern.test(line)) }).toEqual({
      where,
      matchesOwnLine: true,
    });
});

describe('diagnoses of the recorded real runs', () => {
  const diagnoseRun = (run: string) =>
    diagnose({ logLines: serverLines(run), exitCode: recordedExitCode(run), secrets: ['testkey'] });

  test.each(['gpu/fail_oom_mem_fraction_099.condensed.log', 'gpu/fail_oom_second_server_same_gpu.condensed.log'])(
    'CUDA OOM start-up %s → the OOM row first, with the guide fix',
    (run) => {
      expect(recordedExitCode(run)).toBe(-9);
      const result = diagnoseRun(run);
      expect(result[0]).toMatchObject({ id: 'engine-oom', severity: 'error' });
      expect(result[0]!.resolution).toContain('0.88 → 0.85');
      expect(result[0]!.evidence.join('\n')).toContain('torch.OutOfMemoryError: CUDA out of memory');
      expect(result.map((d) => d.id)).not.toContain('engine-exit-minus-9');
    },
  );

  test('a SIGKILLed scheduler (recorded: a kill -9 from outside) → the killed-scheduler row, not an OOM', () => {
    const result = diagnoseRun('cpu/kill_scheduler.condensed.log');
    expect(result[0]).toMatchObject({ id: 'scheduler-killed', confidence: 'confirmed' });
    expect(result[0]!.evidence.join('\n')).toMatch(/Subprocess scheduler_0 \(pid=\d+\) crashed with exit code -9/);
    expect(result[0]!.fix).toContain('OOM killer (dmesg)');
    expect(result.map((d) => d.id)).not.toContain('engine-oom');
  });

  test('an OOM because another server holds the GPU → free the GPU, not a lower fraction', () => {
    const result = diagnoseRun('gpu/fail_oom_second_server_same_gpu.condensed.log');
    expect(result[0]!.fix).toBe('free the GPU: process 782 holds 137.68 GiB of its memory (another server on it?)');
    const own = diagnoseRun('gpu/fail_oom_mem_fraction_099.condensed.log');
    expect(own[0]!.fix).toMatch(/mem-fraction-static/);
  });

  test.each(['cpu/watchdog1.condensed.log', 'gpu/watchdog1.condensed.log'])(
    'watchdog run %s → the watchdog row, not an OOM',
    (run) => {
      const ids = diagnoseRun(run).map((d) => d.id);
      expect(ids[0]).toBe('watchdog-timeout');
      expect(ids).not.toContain('engine-oom');
    },
  );

  test('a scheduler exception while serving → the exception row naming it', () => {
    const result = diagnoseRun('cpu/crash_grammar_on_cpu.condensed.log');
    expect(result[0]!.id).toBe('scheduler-exception');
  });

  test('a healthy start and a SIGTERM drain (rc -9) → no findings: -9 after SIGTERM is a requested stop', () => {
    for (const run of ['cpu/server_main.condensed.log', 'gpu/server_main.condensed.log']) {
      expect(recordedExitCode(run)).toBe(-9);
      const result = diagnoseRun(run);
      expect({ run, findings: result.filter((d) => d.severity !== 'benign').map((d) => d.id) }).toEqual({
        run,
        findings: [],
      });
      expect(result.map((d) => d.id)).toContain('sigterm-shutdown');
      expect(hasFindings(result)).toBe(false);
    }
  });

  test('-9 with no explaining line → the generic -9 row that points at the lines before kill_process_tree', () => {
    const result = diagnose({
      logLines: ['[2026-12-01 08:24:30] kill_process_tree called: parent_pid=1, include_parent=True, pid=1'],
      exitCode: -9,
    });
    expect(result[0]!.id).toBe('engine-exit-minus-9');
    expect(result[0]!.resolution).toContain('kill_process_tree');
  });

  test('evidence from the real server_args line (api_key in plain text) never carries the key', () => {
    const withArgs = diagnose({
      logLines: serverLines('cpu/fp8kv_only.condensed.log'),
      exitCode: recordedExitCode('cpu/fp8kv_only.condensed.log'),
    });
    expect(serverLines('cpu/fp8kv_only.condensed.log').join('\n')).toContain("api_key='testkey'");
    expect(withArgs.map((d) => d.id)).toContain('garbled-output');
    expect(JSON.stringify(withArgs)).not.toContain('testkey');
  });
});

test('`glm-ops doctor` on a recorded real OOM log gives the OOM fix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-doctor-real-'));
  const logFile = path.join(dir, 'sglang.log');
  fs.writeFileSync(logFile, `${serverLines('gpu/fail_oom_mem_fraction_099.condensed.log').join('\n')}\n`);
  const run = spawnSync(process.execPath, [builtCliEntry(), 'doctor', logFile, '--exit-code', '-9'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(run.status).toBe(1);
  const firstFinding = run.stdout.split('\n').find((l) => l.startsWith('ERROR'));
  expect(firstFinding).toContain('CUDA out of memory: SGLang died (code -9)');
  expect(run.stdout).toContain('Lower --mem-fraction-static (e.g. 0.88 → 0.85)');
  expect(run.stdout).toContain('torch.OutOfMemoryError');
  expect(run.stdout).not.toContain('testkey');
});
