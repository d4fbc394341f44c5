import * as YAML from 'yaml';
import { checkSpecText } from '../../src/spec/check-spec';
import { findRename, isBreaking, specFlagChanges } from '../../src/spec/flag-renames';
import { fixSpecFlags } from '../../src/spec/fix-spec-flags';
import { flagTableFor, type SglangFlagTable } from '../../src/spec/sglang-flags';
import { deriveUpgradedSpec } from '../../src/spec/upgrade-spec';
import { readRepoFile } from '../helpers/repo-files';
import { loadExampleSpec } from '../helpers/test-spec';

function table(version: string): SglangFlagTable {
  return flagTableFor(version)!;
}

describe('specFlagChanges: what a spec needs to move between releases', () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it('0.5.10 → 0.5.23: the nsa flags were renamed dsa (stated in the source), nsa is a deprecated value', () => {
    const changes = specFlagChanges(spec.sglang.args, table('0.5.10'), table('0.5.23'));
    expect(changes.filter(isBreaking).map((c) => [c.kind, c.key, 'to' in c ? c.to : undefined])).toEqual([
      ['renamed', 'nsa-decode-backend', 'dsa-decode-backend'],
      ['renamed', 'nsa-prefill-backend', 'dsa-prefill-backend'],
    ]);
    expect(changes).toContainEqual(
      expect.objectContaining({ kind: 'value-deprecated', key: 'attention-backend', from: 'nsa', to: 'dsa' }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({ kind: 'deprecated', key: 'enable-flashinfer-allreduce-fusion' }),
    );
    expect(changes.map((c) => c.key)).not.toContain('tp');
  });

  it('0.5.10 → 0.5.17: nothing breaks; the nsa flags are deprecated aliases forwarded to dsa', () => {
    const changes = specFlagChanges(spec.sglang.args, table('0.5.10'), table('0.5.17'));
    expect(changes.filter(isBreaking)).toEqual([]);
    expect(changes).toContainEqual(
      expect.objectContaining({ kind: 'deprecated', key: 'nsa-decode-backend', to: 'dsa-decode-backend' }),
    );
  });

  it('0.5.10 → 0.5.10 (a tag between tables maps to the nearest below): no change', () => {
    expect(specFlagChanges(spec.sglang.args, table('0.5.10'), table('0.5.10'))).toEqual([]);
  });

  it('finds renames through a release in between, and says when a flag is simply gone', () => {
    const from = { table: table('0.5.10'), flag: table('0.5.10').byOption.get('--cuda-graph-max-bs')! };
    expect(findRename('cuda-graph-max-bs', table('0.5.23'), from)).toMatchObject({
      to: 'cuda-graph-max-bs-decode',
      isGuess: false,
      source: expect.stringContaining('SGLang 0.5.17'),
    });
    const gone = { table: table('0.5.10'), flag: table('0.5.10').byOption.get('--enable-double-sparsity')! };
    expect(findRename('enable-double-sparsity', table('0.5.23'), gone)).toBeUndefined();
    const changes = specFlagChanges({ 'enable-double-sparsity': true }, table('0.5.10'), table('0.5.23'));
    expect(changes).toEqual([expect.objectContaining({ kind: 'removed', key: 'enable-double-sparsity' })]);
  });
});

describe('fixSpecFlags: the spec moved to a new release, comments kept', () => {
  const text = readRepoFile('examples/glm-5.1-b200.yaml');
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it('renames flags and values in place and keeps every comment and the layout', () => {
    const changes = specFlagChanges(spec.sglang.args, table('0.5.10'), table('0.5.23'));
    const fixed = fixSpecFlags(text, 'lmsysorg/sglang:v0.5.23', changes);
    expect(fixed.left).toEqual([]);
    expect(fixed.text).toContain('  image: lmsysorg/sglang:v0.5.23   # guide: SGLang 0.5.10+ with DeepGEMM');
    expect(fixed.text).toContain('    dsa-decode-backend: trtllm     # #21291');
    expect(fixed.text).toContain('    attention-backend: dsa\n');
    expect(fixed.text).toContain('    flashinfer-allreduce-fusion-backend: auto\n');
    const commentsBefore = text.split('\n').filter((line) => line.includes('#')).length;
    expect(fixed.text.split('\n').filter((line) => line.includes('#')).length).toBe(commentsBefore);
    expect(fixed.text.split('\n').length).toBe(text.split('\n').length);
    const check = checkSpecText(fixed.text);
    expect(check.errors).toEqual([]);
    expect(check.findings).toEqual([]);
    expect(check.flagTable).toMatchObject({ version: '0.5.23', choice: 'exact' });
  });

  it('keeps quoting, and leaves what no rename can fix for the person', () => {
    const quoted = text
      .replace('image: lmsysorg/sglang:v0.5.10', 'image: "lmsysorg/sglang:v0.5.10"')
      .replace('    ep: 1\n', '    ep: 1\n    enable-double-sparsity: true\n');
    const parsed = YAML.parse(quoted) as { sglang: { args: Record<string, string | number | boolean> } };
    const changes = specFlagChanges(parsed.sglang.args, table('0.5.10'), table('0.5.23'));
    const fixed = fixSpecFlags(quoted, 'lmsysorg/sglang:v0.5.23', changes);
    expect(fixed.text).toContain('image: "lmsysorg/sglang:v0.5.23"');
    expect(fixed.left.map((c) => c.key)).toEqual(['enable-double-sparsity']);
  });
});

describe('deriveUpgradedSpec moves the deployed spec to the new release’s spellings', () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it('to 0.5.23: dsa names and value, key order kept, each change with its reason', () => {
    const { spec: next, changes } = deriveUpgradedSpec(spec, { sglangImage: 'lmsysorg/sglang:v0.5.23' });
    const keys = Object.keys(next.sglang.args);
    expect(keys.indexOf('dsa-decode-backend')).toBe(Object.keys(spec.sglang.args).indexOf('nsa-decode-backend'));
    expect(keys).not.toContain('nsa-decode-backend');
    expect(next.sglang.args['attention-backend']).toBe('dsa');
    expect(changes).toContainEqual(
      expect.objectContaining({
        path: 'sglang.args.nsa-decode-backend',
        from: 'nsa-decode-backend',
        to: 'dsa-decode-backend',
      }),
    );
    const check = checkSpecText(YAML.stringify(next));
    expect(check.findings.filter((f) => f.level === 'error')).toEqual([]);
  });

  it('to 0.5.11 (nearest table 0.5.10): the flags stay as written', () => {
    const { spec: next } = deriveUpgradedSpec(spec, { sglangImage: 'lmsysorg/sglang:v0.5.11' });
    expect(next.sglang.args).toEqual(spec.sglang.args);
  });
});
