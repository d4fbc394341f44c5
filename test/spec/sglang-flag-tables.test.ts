import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allFlagTables, flagTableFor, SglangFlagTableFile, type SglangFlagTable } from '../../src/spec/sglang-flags';
import { REPO_ROOT } from '../helpers/repo-files';

function python(): string {
  const venv = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  return fs.existsSync(venv) ? venv : 'python3';
}

function table(version: string): SglangFlagTable {
  const found = flagTableFor(version);
  if (!found) throw new Error(`no committed table for ${version}`);
  return found;
}

function flag(version: string, option: string) {
  return table(version).byOption.get(option);
}

describe('scripts/extract-sglang-flags.py on a synthetic sglang package (no download)', () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sglang-flags-'));
  const site = path.join(REPO_ROOT, 'test', 'fixtures', 'sglang-flags-extractor', 'site');
  execFileSync(
    python(),
    [path.join(REPO_ROOT, 'scripts', 'extract-sglang-flags.py'), '9.9.9', '--site', site, '--out-dir', outDir],
    { env: { PATH: process.env.PATH ?? '' } },
  );
  const written = JSON.parse(fs.readFileSync(path.join(outDir, 'sglang-9.9.9.json'), 'utf8')) as unknown;
  const extracted = SglangFlagTableFile.parse(written);
  const byOption = (option: string) => extracted.flags.find((f) => f.optionStrings.includes(option));

  it('runs the package’s own parser, with torch answered by a stand-in', () => {
    expect(extracted).toMatchObject({
      version: '9.9.9',
      wheel: null,
      parser: { prog: 'sglang serve', allowAbbrev: true, addHelp: true },
      standIns: ['torch'],
    });
    // The stand-in torch has no GPU: a default computed from it is the CPU one.
    expect(byOption('--device-default')?.default).toBe('cpu');
  });

  it('records names, aliases, types, required, defaults, nargs and argparse’s own usage text', () => {
    expect(byOption('--model')).toMatchObject({
      optionStrings: ['--model-path', '--model'],
      dest: 'model_path',
      type: 'str',
      required: true,
      usage: '--model-path MODEL_PATH',
    });
    expect(byOption('--tensor-parallel-size')).toMatchObject({
      optionStrings: ['--tp-size', '--tensor-parallel-size'],
      type: 'int',
      default: 1,
    });
    expect(byOption('--mem-fraction-static')).toMatchObject({ type: 'float', default: null });
    expect(byOption('--enable-metrics')).toMatchObject({ action: '_StoreTrueAction', nargs: 0, default: false });
    expect(byOption('--bs')).toMatchObject({ nargs: '+', type: 'int', usage: '[--bs BS [BS ...]]' });
    expect(byOption('--secret-knob')).toMatchObject({ hidden: true });
    expect(byOption('--secret-knob')?.usage).toBeUndefined();
  });

  it('resolves choices from module constants and imported lists, sorts sets, and reads deprecated values from comments', () => {
    expect(byOption('--mode')?.choices).toEqual(['fast', 'safe']);
    expect(byOption('--sampling')).toMatchObject({ choices: ['alpha', 'mid', 'zeta'], choicesOrder: 'set' });
    expect(byOption('--attention-backend')).toMatchObject({
      choices: ['triton', 'dsa', 'nsa', 'trtllm'],
      deprecatedChoices: [{ value: 'nsa', replacement: 'dsa', source: 'sglang/srt/arg_groups/choices.py:5' }],
    });
  });

  it('records deprecations: the action’s new_flag and what it logs, or the replacement its help names', () => {
    expect(byOption('--old-backend')).toMatchObject({
      action: 'DeprecatedAliasStoreAction',
      dest: 'new_backend',
      default: '==SUPPRESS==',
      deprecated: {
        replacement: '--new-backend',
        onUse: { outcome: 'warns', message: "'--old-backend' is deprecated. Use '--new-backend' instead." },
      },
    });
    expect(byOption('--legacy')?.deprecated).toMatchObject({ replacement: '--modern=on', replacementFrom: 'help' });
    // A help that mentions another flag's deprecation does not make this one deprecated.
    expect(byOption('--modern')?.deprecated).toBeUndefined();
  });

  it('reads how compile_deep_gemm parses its argv: the same ServerArgs parser plus --timeout', () => {
    expect(extracted.compileDeepGemm).toMatchObject({
      present: true,
      usesServerArgsParser: true,
      prog: 'compile_deep_gemm.py',
      extraArguments: [{ optionStrings: ['--timeout'], type: 'int' }],
    });
  });
});

describe('the committed tables (extracted from the PyPI wheels of 0.5.10, 0.5.17 and 0.5.23)', () => {
  it('hold the three releases, each with its wheel hash and extraction date', () => {
    expect(allFlagTables().map((t) => t.version)).toEqual(['0.5.10', '0.5.17', '0.5.23']);
    for (const t of allFlagTables()) {
      expect(t.wheel?.file).toMatch(new RegExp(`^sglang-${t.version.replace(/\./g, '\\.')}-`));
      expect(t.wheel?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(t.extractedAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(t.parser).toMatchObject({ prog: 'sglang serve', allowAbbrev: true });
      expect(t.compileDeepGemm).toMatchObject({ usesServerArgsParser: true, prog: 'compile_deep_gemm.py' });
      expect(t.flags.length).toBeGreaterThan(300);
    }
  });

  it('0.5.23 has --dsa-decode-backend/--dsa-prefill-backend (with trtllm) and no --nsa-* backends', () => {
    expect(flag('0.5.23', '--dsa-decode-backend')?.choices).toContain('trtllm');
    expect(flag('0.5.23', '--dsa-prefill-backend')?.choices).toContain('trtllm');
    expect(flag('0.5.23', '--nsa-decode-backend')).toBeUndefined();
    expect(flag('0.5.23', '--nsa-prefill-backend')).toBeUndefined();
  });

  it('0.5.17 keeps --nsa-decode-backend as a deprecated alias forwarding to --dsa-decode-backend', () => {
    expect(flag('0.5.17', '--nsa-decode-backend')).toMatchObject({
      action: 'DeprecatedAliasStoreAction',
      dest: 'dsa_decode_backend',
      deprecated: { replacement: '--dsa-decode-backend' },
    });
  });

  it('0.5.10 (the guide’s image) has only the nsa spellings', () => {
    expect(flag('0.5.10', '--nsa-decode-backend')?.choices).toContain('trtllm');
    expect(flag('0.5.10', '--dsa-decode-backend')).toBeUndefined();
    expect(flag('0.5.10', '--attention-backend')?.choices).toContain('nsa');
    expect(flag('0.5.10', '--attention-backend')?.choices).not.toContain('dsa');
  });

  it('attention-backend nsa is a deprecated alias of dsa from 0.5.17 on, as the source comments say', () => {
    for (const version of ['0.5.17', '0.5.23']) {
      const backend = flag(version, '--attention-backend');
      expect(backend?.choices).toEqual(expect.arrayContaining(['dsa', 'nsa']));
      expect(backend?.deprecatedChoices).toContainEqual(expect.objectContaining({ value: 'nsa', replacement: 'dsa' }));
    }
  });

  it('--tp-size has the alias --tensor-parallel-size, and --tp is no flag of any release (only a prefix)', () => {
    for (const t of allFlagTables()) {
      expect(t.byOption.get('--tp-size')?.optionStrings).toEqual(
        expect.arrayContaining(['--tp-size', '--tensor-parallel-size']),
      );
      expect(t.byOption.has('--tp')).toBe(false);
      expect(t.byOption.get('--ep')?.optionStrings).toContain('--ep-size');
    }
  });

  it('--mem-fraction-static is a float, --max-running-requests an int, --model-path required', () => {
    for (const t of allFlagTables()) {
      expect(t.byOption.get('--mem-fraction-static')?.type).toBe('float');
      expect(t.byOption.get('--max-running-requests')?.type).toBe('int');
      expect(t.byOption.get('--model-path')?.required).toBe(true);
    }
  });
});
