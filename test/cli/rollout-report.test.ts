import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderRolloutFailure, renderRolloutReport } from '../../src/cli/rollout-report';
import type { RolloutResult } from '../../src/shared/rollout-types';

// Failures and a result as the rollout workflow returned them on the local stack (fetched from Temporal after real
// drills: an OOM while loading, a SIGKILL while loading, a SIGKILL during the smoke tests; one from before diagnoses
// said how sure they are, with the old "502 after hours" second diagnosis).
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'rollout-reports');
const fixture = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
const failureReport = (name: string, columns: number): string[] =>
  renderRolloutFailure({ failure: fixture(name) }, columns);
const count = (lines: string[], pattern: RegExp): number => lines.filter((line) => pattern.test(line)).length;

describe.each([80, 120])('at %i columns', (columns) => {
  const fits = (lines: string[]): void => {
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.filter((line) => line.length > columns)).toEqual([]);
  };

  test('a start-up OOM: the verdict, then the one fix, the diagnosis once, the compensation once, in ≤ 16 lines', () => {
    const lines = failureReport('startup-oom.failure.json', columns);
    fits(lines);
    expect(lines[1]).toBe('rollout of oom-drill failed in health after 11.7 s (EngineCrashed)');
    const fix = lines.findIndex((line) => line.startsWith('fix: '));
    expect(fix).toBeLessThanOrEqual(4);
    expect(lines[fix]).toBe('fix: lower --mem-fraction-static 0.88 → 0.85 (sglang.args in the spec)');
    expect(lines.slice(fix + 1).join(' ')).toMatch(
      /^why: CUDA out of memory: SGLang died \(code -9\) — confirmed by a log line/,
    );
    expect(count(lines, /CUDA out of memory: SGLang died/)).toBe(1);
    expect(count(lines, /^compensation/)).toBe(1);
    expect(lines.join('\n')).not.toMatch(/after running fine for hours|diagnosis:/);
    expect(lines.length).toBeLessThanOrEqual(16);
    expect(lines.at(-1)).toBe('  not reached: warmup, smoke');
  });

  test('the phase table keeps one row per phase (details cut, never wrapped)', () => {
    const lines = failureReport('startup-oom.failure.json', columns);
    const table = lines.slice(lines.indexOf('phases:') + 1, -1);
    expect(table.map((line) => line.slice(2, 10).trim())).toEqual([
      'validate',
      'weights',
      'kernels',
      'deploy',
      'health',
    ]);
    expect(table.at(-1)).toMatch(/^ {2}health {3}failed {4}7\.09 s {2}failed: the cause above$/);
  });

  test('a report from before confidences: each diagnosis once (the old second one as "also"), the fix from the resolution', () => {
    const lines = failureReport('startup-oom-before-confidence.failure.json', columns);
    fits(lines);
    expect(count(lines, /^fix: Lower --mem-fraction-static \(e\.g\. 0\.88 → 0\.85\)$/)).toBe(1);
    expect(count(lines, /^also: Container returns 502 Bad Gateway/)).toBe(1);
    expect(count(lines, /SGLang died \(code -9\) \(guide/)).toBe(1);
    expect(count(lines, /^compensation/)).toBe(1);
  });

  test('an engine SIGKILLed while loading: killed from outside, no OOM fix', () => {
    const text = failureReport('startup-sigkill.failure.json', columns).join('\n');
    expect(text).toMatch(/^fix: find who killed the engine/m);
    expect(text).toMatch(/killed from outside .* likely, from the symptoms/s);
    expect(text).not.toMatch(/mem-fraction|out of memory/i);
  });

  test('an engine SIGKILLed during the smoke tests: the failed tests in one summary, no parser or --api-key advice', () => {
    const lines = failureReport('smoke-sigkill.failure.json', columns);
    fits(lines);
    const text = lines.join(' ').replace(/\s+/g, ' ');
    expect(text).toMatch(/7 of 8 smoke tests failed \(basic-inference, models-list, tool-call, reasoning-content,/);
    expect(text).not.toMatch(/tool-call-parser|reasoning-parser|set --api-key/);
    expect(count(lines, /^fix: /)).toBe(1);
  });

  test('the success report: rows aligned, details and guide lines wrapped at words under their column', () => {
    const result = fixture<RolloutResult>('success.result.json');
    const lines = renderRolloutReport(result, columns);
    fits(lines);
    const guide = lines.filter((line) => line.trimStart().startsWith('guide: '));
    expect(guide).toHaveLength(3);
    for (const line of guide) expect(line.indexOf('guide: ')).toBe(29);
    // Every word of every guide expectation is there, whole, in order.
    const words = lines.join(' ').split(/\s+/);
    for (const p of result.phases.filter((phase) => phase.guideExpectation)) {
      const expected = p.guideExpectation!.split(' ');
      const at = words.indexOf(expected[0]!, words.indexOf(p.name));
      expect(words.slice(at, at + expected.length)).toEqual(expected);
    }
    expect(count(lines, /^ {2}pass {2}/)).toBe(8);
  });
});

test('at 80 columns the success report wraps; at 120 the detail of each phase stays on its row', () => {
  const result = fixture<RolloutResult>('success.result.json');
  const rowOf = (lines: string[], name: string) => lines.findIndex((line) => line.startsWith(`  ${name.padEnd(8)} `));
  const at120 = renderRolloutReport(result, 120);
  expect(at120[rowOf(at120, 'warmup')]).toMatch(/tool-call 380 ms$/);
  const at80 = renderRolloutReport(result, 80);
  expect(at80[rowOf(at80, 'warmup')]).not.toMatch(/tool-call 380 ms$/);
  expect(at80[rowOf(at80, 'warmup') + 1]).toMatch(/^ {29}\S.*tool-call 380 ms$/);
});

test('a performance phase keeps the columns of the other rows (its name is the longest)', () => {
  const result = fixture<RolloutResult>('success.result.json');
  const smoke = result.phases.find((p) => p.name === 'smoke')!;
  const withGate: RolloutResult = {
    ...result,
    phases: [...result.phases, { ...smoke, name: 'performance', detail: 'passed: TTFT p95 137 ms' }],
  };
  const lines = renderRolloutReport(withGate, 120);
  const stateColumn = (name: string) => {
    const row = lines.find((line) => line.startsWith(`  ${name} `))!;
    return row.slice(2 + name.length).search(/\S/) + 2 + name.length;
  };
  expect(stateColumn('performance')).toBe(2 + 'performance'.length + 1);
  for (const name of ['validate', 'weights', 'kernels', 'deploy', 'health', 'warmup', 'smoke'])
    expect(stateColumn(name)).toBe(stateColumn('performance'));
});
