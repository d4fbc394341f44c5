import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { builtCliEntry } from '../helpers/built-lib';
import { engineCommand } from '../../src/platforms/local/engine-command';
import { buildSglangArgv } from '../../src/spec/argv-builder';
import { parseSpecText } from '../../src/spec/parse-spec';
import { flagTableFor } from '../../src/spec/sglang-flags';
import { guideArgv, makeKernelCache, makeModelDir, spawnEmulator } from '../helpers/emulator-fixture';

const ROOT = path.resolve(__dirname, '../..');
const RECORDING = path.join(ROOT, 'test', 'fixtures', 'sglang-argv', 'fail_unknown_flag.condensed.log');

/** The LOG lines of the recording of real SGLang 0.5.17 started with `--mem-fraction-statik 0.8`. */
function recording(): { argv: string[]; usageAndError: string[] } {
  const text = fs.readFileSync(RECORDING, 'utf8');
  const spawn = /EVENT spawn python -m sglang\.launch_server (.*)$/m.exec(text);
  const logs = text.split('\n').flatMap((line) => {
    const match = /^\+\s*[\d.]+ \S+ LOG {3}(.*)$/.exec(line);
    return match ? [match[1] as string] : [];
  });
  const start = logs.findIndex((line) => line.startsWith('usage: '));
  const end = logs.findIndex((line) => line.startsWith('sglang serve: error: '));
  return { argv: (spawn?.[1] ?? '').split(' '), usageAndError: logs.slice(start, end + 1) };
}

/** argparse prints set-valued choices in hash order (`--sampling-backend`): compare them as sets. */
function normalise(lines: string[]): string[] {
  const table = flagTableFor('0.5.17')!;
  const setFlags = table.flags.filter((flag) => flag.choicesOrder === 'set').map((flag) => flag.optionStrings[0]!);
  return lines.map((line) =>
    setFlags.reduce(
      (out, option) =>
        out.replace(
          new RegExp(`(${option} \\{)([^}]*)(\\})`),
          (_m, open: string, body: string, close: string) => `${open}${body.split(',').sort().join(',')}${close}`,
        ),
      line,
    ),
  );
}

describe('the emulator process rejects a bad argv as SGLang does (exit 2, argparse usage and message)', () => {
  it('playing 0.5.17, prints the recorded usage text and error line for the recorded argv', async () => {
    const { argv, usageAndError } = recording();
    const emulator = spawnEmulator(argv, { GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.17' });
    const exit = await emulator.exit;
    expect(exit).toEqual({ code: 2, signal: null });
    const printed = emulator.output().trimEnd().split('\n');
    expect(normalise(printed.slice(-usageAndError.length))).toEqual(normalise(usageAndError));
    expect(printed.at(-1)).toBe('sglang serve: error: unrecognized arguments: --mem-fraction-statik 0.8');
    expect(emulator.output()).not.toContain('Uvicorn running');
  });

  it("playing the guide's 0.5.10, the builder's argv with a misspelled flag exits 2 before loading anything", async () => {
    const modelDir = makeModelDir();
    const emulator = spawnEmulator(guideArgv(modelDir, ['--mem-fraction-statik', '0.8']), {
      GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.10',
    });
    expect(await emulator.exit).toEqual({ code: 2, signal: null });
    const output = emulator.output();
    expect(output.startsWith('usage: sglang serve [-h] --model-path MODEL_PATH\n')).toBe(true);
    expect(output.trimEnd().split('\n').at(-1)).toBe(
      'sglang serve: error: unrecognized arguments: --mem-fraction-statik 0.8',
    );
    expect(output).not.toMatch(/Load weight|Uvicorn/);
  });

  it("playing 0.5.23, the guide's 0.5.10 spellings fail the way 0.5.23 fails them", async () => {
    const emulator = spawnEmulator(guideArgv(makeModelDir()), {
      GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.23',
    });
    expect(await emulator.exit).toEqual({ code: 2, signal: null });
    expect(emulator.output().trimEnd().split('\n').at(-1)).toBe(
      'sglang serve: error: unrecognized arguments: --nsa-decode-backend trtllm --nsa-prefill-backend trtllm',
    );
  });

  it("the local platform's engine command makes the emulator play the spec's release", async () => {
    const text = fs.readFileSync(path.join(ROOT, 'examples', 'local-demo.yaml'), 'utf8');
    const parsed = parseSpecText(text.replace('lmsysorg/sglang:v0.5.10', 'lmsysorg/sglang:v0.5.23'));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const sglangArgv = buildSglangArgv(parsed.spec, { modelPath: makeModelDir(), host: '127.0.0.1', port: 1 });
    const command = engineCommand(parsed.spec, { sglangArgv, kernelCacheDir: makeKernelCache() }, builtCliEntry());
    expect(command.env.GLM_OPS_EMULATOR_SGLANG_IMAGE).toBe('lmsysorg/sglang:v0.5.23');
    const child = spawn(command.file, command.args, { env: { PATH: process.env.PATH, ...command.env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      'sglang serve: error: unrecognized arguments: --nsa-decode-backend trtllm --nsa-prefill-backend trtllm',
    );
  });
});
