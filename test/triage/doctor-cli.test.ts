import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtCliEntry } from '../helpers/built-lib';

const LOGS = path.join(__dirname, '..', 'fixtures', 'logs');

function doctor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [builtCliEntry(), 'doctor', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// Fails with what to run when lib/ is missing or stale (the CLI runs from there).
beforeAll(() => builtCliEntry());

test('a DeepGEMM compile log (captured from the compile twin) is benign noise only → exit 0', () => {
  const run = doctor(path.join(LOGS, 'compile-deepgemm.txt'));
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('no findings');
  expect(run.stdout).toContain('DeepGEMM / compile success');
  expect(run.stdout).toContain('§12');
});

test('a healthy emulator start-up log → exit 0', () => {
  expect(doctor(path.join(LOGS, 'emulator-healthy-start.txt')).status).toBe(0);
});

test('an OOM app log → exit 1, OOM first with the guide resolution and evidence', () => {
  const run = doctor(path.join(LOGS, 'app-log-oom.txt'));
  expect(run.status).toBe(1);
  const firstFinding = run.stdout.split('\n').find((l) => l.startsWith('ERROR'));
  expect(firstFinding).toContain('SGLang died (code -9)');
  expect(run.stdout).toContain('0.88 → 0.85');
  expect(run.stdout).toContain('> torch.OutOfMemoryError');
});

test('--json prints the diagnoses as a JSON array', () => {
  const run = doctor(path.join(LOGS, 'app-log-oom.txt'), '--json');
  expect(run.status).toBe(1);
  const diagnoses = JSON.parse(run.stdout) as Array<{ id: string; severity: string; guideSection: string }>;
  expect(diagnoses[0]).toMatchObject({ id: 'engine-oom', severity: 'error', guideSection: '§17 Log triage' });
  expect(diagnoses.at(-1)!.severity).toBe('benign');
});

test('JSON-lines app logs (logs.jsonl) are unwrapped to their text', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-doctor-'));
  const file = path.join(dir, 'logs.jsonl');
  const rows = [
    { time: '2026-01-01T00:00:00Z', stream: 'system', text: '[monitor] FATAL: SGLang died (code 137)' },
    { time: '2026-01-01T00:00:01Z', stream: 'stdout', text: '[health] passed on attempt 1' },
  ];
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  const run = doctor(file, '--json');
  expect(run.status).toBe(1);
  expect((JSON.parse(run.stdout) as Array<{ id: string }>).map((d) => d.id)).toEqual([
    'platform-kill',
    'crash-502',
    'health-fast',
  ]);
});

test('--exit-code feeds the exit-code table', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-doctor-'));
  const file = path.join(dir, 'empty.log');
  fs.writeFileSync(file, 'nothing to see\n');
  expect(doctor(file).status).toBe(0);
  const run = doctor(file, '--exit-code', '-9', '--json');
  expect(run.status).toBe(1);
  // -9 without SGLang's own exit line (kill_process_tree) in the log: something outside killed it, no cause is named.
  expect((JSON.parse(run.stdout) as Array<{ id: string }>)[0]!.id).toBe('killed-from-outside');
  fs.writeFileSync(file, 'kill_process_tree called: parent_pid=7, include_parent=True, pid=7\n');
  // Real SGLang ends every failure (and a SIGTERM drain) with -9: alone it names no cause, so the -9 row says where to look.
  const own = doctor(file, '--exit-code', '-9', '--json');
  expect((JSON.parse(own.stdout) as Array<{ id: string }>)[0]!.id).toBe('engine-exit-minus-9');
});

test('a missing file → one line on stderr naming it, exit 2, no stack trace', () => {
  const run = doctor('/definitely/not/here.log');
  expect(run.status).toBe(2);
  expect(run.stderr.trim().split('\n')).toEqual(['glm-ops doctor: LOGFILE /definitely/not/here.log: no such file']);
  expect(run.stdout).toBe('');
});
