import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatUsage, matchOption, parseSglangArgv, SglangArgvError } from '../../src/spec/sglang-argparse';
import { flagTableFor, type SglangFlagTable } from '../../src/spec/sglang-flags';
import { REPO_ROOT } from '../helpers/repo-files';

function table(version: string): SglangFlagTable {
  const found = flagTableFor(version);
  if (!found) throw new Error(`no table for ${version}`);
  return found;
}

/** The LOG lines of a recorded timeline, verbatim. */
function recordedLogLines(file: string): string[] {
  return fs
    .readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sglang-argv', file), 'utf8')
    .split('\n')
    .flatMap((line) => {
      const match = /^\+\s*[\d.]+ \S+ LOG {3}(.*)$/.exec(line);
      return match ? [match[1] as string] : [];
    });
}

function recordedSpawnArgv(file: string): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sglang-argv', file), 'utf8');
  const spawn = /EVENT spawn python -m sglang\.launch_server (.*)$/m.exec(text);
  if (!spawn) throw new Error('no spawn line');
  return (spawn[1] as string).split(' ');
}

/** argparse prints set-valued choices in hash order: compare those braces as sets. */
function normaliseSetChoices(text: string, flags: SglangFlagTable): string {
  let out = text;
  for (const flag of flags.flags.filter((f) => f.choicesOrder === 'set')) {
    const option = flag.optionStrings[0] as string;
    out = out.replace(
      new RegExp(`(${option} \\{)([^}]*)(\\})`, 'g'),
      (_m, open: string, body: string, close: string) => {
        return `${open}${body.split(',').sort().join(',')}${close}`;
      },
    );
  }
  return out;
}

function python(): string {
  const venv = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  return fs.existsSync(venv) ? venv : 'python3';
}

interface OracleResult {
  exit: number | null;
  stderr: string;
  dests?: Record<string, unknown>;
}

/** Runs the real argparse (Python 3) on a parser rebuilt from the table, for each argv. */
function oracle(version: string, cases: string[][]): { results: OracleResult[]; usage: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'argparse-oracle-'));
  const casesFile = path.join(dir, 'cases.json');
  fs.writeFileSync(casesFile, JSON.stringify(cases));
  const output = execFileSync(
    python(),
    [
      path.join(REPO_ROOT, 'test', 'spec', 'argparse_oracle.py'),
      path.join(REPO_ROOT, 'src', 'spec', 'sglang-flags', `sglang-${version}.json`),
      casesFile,
    ],
    { env: { PATH: process.env.PATH ?? '', COLUMNS: '80' }, encoding: 'utf8' },
  );
  const lines = output.trim().split('\n');
  const usageLine = JSON.parse(lines.pop() as string) as { usage: string };
  return { results: lines.map((line) => JSON.parse(line) as OracleResult), usage: usageLine.usage };
}

function ours(version: string, argv: string[]): OracleResult {
  try {
    const parsed = parseSglangArgv(table(version), argv);
    return { exit: null, stderr: '', dests: parsed.namespace };
  } catch (err) {
    if (!(err instanceof SglangArgvError)) throw err;
    return { exit: err.exitCode, stderr: err.stderrText };
  }
}

describe('argv parsing against the recording of real SGLang 0.5.17', () => {
  const lines = recordedLogLines('fail_unknown_flag.condensed.log');
  const usageStart = lines.findIndex((line) => line.startsWith('usage: '));
  const errorAt = lines.findIndex((line) => line.startsWith('sglang serve: error: '));

  it('prints the recorded usage text, line for line (set-ordered choices compared as sets)', () => {
    const recorded = lines.slice(usageStart, errorAt).join('\n') + '\n';
    const usage = formatUsage(table('0.5.17'));
    expect(usage.split('\n').length).toBe(errorAt - usageStart + 1);
    expect(normaliseSetChoices(usage, table('0.5.17'))).toBe(normaliseSetChoices(recorded, table('0.5.17')));
  });

  it('rejects the recorded argv with the recorded error line, after the recorded deprecation warning', () => {
    const argv = recordedSpawnArgv('fail_unknown_flag.condensed.log');
    expect(argv).toContain('--mem-fraction-statik');
    let caught: unknown;
    try {
      parseSglangArgv(table('0.5.17'), argv);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SglangArgvError);
    const error = caught as SglangArgvError;
    expect(error.exitCode).toBe(2);
    expect(error.stderrText.trimEnd().split('\n').pop()).toBe(lines[errorAt]);
    expect(error.reason).toBe('unrecognized arguments: --mem-fraction-statik 0.8');
    const warningLine = lines.find((line) => line.includes("'--disable-cuda-graph' is deprecated"));
    expect(error.warnings).toEqual([warningLine]);
  });
});

describe('argv parsing against the real argparse (Python 3) over the same tables', () => {
  const cases: [string, string[]][] = [
    ['0.5.23', ['--model-path', '/m']],
    ['0.5.23', ['--model-path', '/m', '--mem-fraction-statik', '0.8']],
    ['0.5.23', ['--model-path', '/m', '--mem-fraction-statik=0.8', '--enable-metrics']],
    ['0.5.23', ['--model-path', '/m', '--tp', '8', '--ep', '1']],
    ['0.5.23', ['--model-path', '/m', '--t', '8']],
    ['0.5.23', ['--model-path', '/m', '--port', 'abc']],
    ['0.5.23', ['--model-path', '/m', '--port=8000', '--host', '0.0.0.0']],
    ['0.5.23', ['--model-path', '/m', '--attention-backend', 'xyz']],
    ['0.5.23', ['--model-path', '/m', '--attention-backend', 'nsa', '--dsa-decode-backend', 'trtllm']],
    ['0.5.23', ['--model-path', '/m', '--nsa-decode-backend', 'trtllm']],
    ['0.5.23', ['--model-path', '/m', '--max-running-requests']],
    ['0.5.23', ['--model-path', '/m', '--max-running-requests', '--enable-metrics']],
    ['0.5.23', ['--port', '1']],
    ['0.5.23', ['--model-path', '/m', '--enable-metrics=yes']],
    ['0.5.23', ['--model-path', '/m', 'stray', '--enable-metrics']],
    ['0.5.23', ['--model-path', '/m', '--mem-fraction-static', '-0.5']],
    ['0.5.23', ['--model-path', '/m', '--chunked-prefill-size', '1_000', '--watchdog-timeout', '1e3']],
    ['0.5.23', ['--model-path', '/m', '--kv-cache-dtype', 'fp8_e4m3', '--speculative-num-steps', '3.5']],
    ['0.5.23', ['--model', '/m', '--served-model-name', 'glm-5.1', '--tensor-parallel-size', '8']],
    ['0.5.10', ['--model-path', '/m', '--tp', '8', '--nsa-decode-backend', 'trtllm', '--attention-backend', 'nsa']],
    ['0.5.10', ['--model-path', '/m', '--cuda-graph-bs', '1', '2', '4', '--enable-metrics']],
    ['0.5.10', ['--model-path', '/m', '--cuda-graph-bs']],
    ['0.5.10', ['--model-path', '/m', '--dsa-decode-backend', 'trtllm']],
    ['0.5.17', ['--model-path', '/m', '--tool-call-parser', 'glm47', '--reasoning-parser', 'glm45']],
    ['0.5.17', ['--model-path', '/m', '--tool-call-parser', 'glm99']],
  ];

  it.each(['0.5.10', '0.5.17', '0.5.23'])('SGLang %s: same exit status, stderr and namespace', (version) => {
    const mine = cases.filter(([v]) => v === version).map(([, argv]) => argv);
    const { results } = oracle(version, mine);
    mine.forEach((argv, i) => {
      const expected = results[i] as OracleResult;
      const actual = ours(version, argv);
      expect({ argv, exit: actual.exit, stderr: normaliseSetChoices(actual.stderr, table(version)) }).toEqual({
        argv,
        exit: expected.exit,
        stderr: normaliseSetChoices(expected.stderr, table(version)),
      });
      if (expected.dests) expect(JSON.parse(JSON.stringify(actual.dests))).toEqual(expected.dests);
    });
  });

  it.each(['0.5.10', '0.5.17', '0.5.23'])('SGLang %s: the usage text argparse formats', (version) => {
    const { usage } = oracle(version, []);
    expect(normaliseSetChoices(formatUsage(table(version)), table(version))).toBe(
      normaliseSetChoices(usage, table(version)),
    );
  });
});

describe('matchOption', () => {
  it('reads --tp as an abbreviation of --tp-size, --ep as an alias, and names ambiguous prefixes', () => {
    const latest = table('0.5.23');
    expect(matchOption(latest, '--tp')).toMatchObject({ kind: 'abbreviation', option: '--tp-size' });
    expect(matchOption(latest, '--ep')).toMatchObject({ kind: 'exact', option: '--ep' });
    const ambiguous = matchOption(latest, '--speculative-num');
    expect(ambiguous.kind).toBe('ambiguous');
    expect(ambiguous.kind === 'ambiguous' && ambiguous.matches).toEqual(
      expect.arrayContaining(['--speculative-num-steps', '--speculative-num-draft-tokens']),
    );
    expect(matchOption(latest, '--mem-fraction-stat')).toMatchObject({ kind: 'abbreviation' });
    expect(matchOption(latest, '--mem-fraction-statik')).toEqual({ kind: 'unknown' });
  });
});
