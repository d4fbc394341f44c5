import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unifiedDiff } from '../../src/cli/line-diff';
import { patchSpecText, SpecPatchError } from '../../src/cli/tune-spec-patch';
import { parseSpecText } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';

const demo = readRepoFile('examples/local-demo.yaml');

/** The indices of the lines that differ between two texts of the same line count. */
function changedLines(before: string, after: string): number[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [i]));
}

describe('the spec patch: the chosen levers written into the YAML, comments and layout kept', () => {
  const candidate = {
    args: { 'max-running-requests': 64, 'mem-fraction-static': 0.85, 'speculative-algorithm': false },
    modal: { maxInputs: 64 },
  };

  it('changes exactly the lever lines of the demo spec and nothing else (every comment and alignment kept)', () => {
    const patch = patchSpecText(demo, candidate);
    const lines = demo.split('\n');
    const leverLines = ['max-running-requests:', 'mem-fraction-static:', 'speculative-algorithm:', 'maxInputs:'].map(
      (key) => lines.findIndex((line) => line.trimStart().startsWith(key)),
    );
    expect(leverLines.every((i) => i >= 0)).toBe(true);
    expect(changedLines(demo, patch.text)).toEqual([...leverLines].sort((x, y) => x - y));
    expect(patch.text.split('\n').filter((line) => line.includes('#'))).toEqual(
      lines.filter((line) => line.includes('#')),
    );
    expect(patch.changes).toEqual([
      { path: 'sglang.args.max-running-requests', before: 48, after: 64 },
      { path: 'sglang.args.mem-fraction-static', before: 0.88, after: 0.85 },
      { path: 'sglang.args.speculative-algorithm', before: 'EAGLE', after: false },
      { path: 'modal.maxInputs', before: 48, after: 64 },
    ]);
    expect(patch.layoutNote).toBeUndefined();
    const parsed = parseSpecText(patch.text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const original = parseSpecText(demo);
    if (!original.ok) throw new Error('demo does not parse');
    expect(parsed.spec.sglang.args).toEqual({
      ...original.spec.sglang.args,
      'max-running-requests': 64,
      'mem-fraction-static': 0.85,
      'speculative-algorithm': false,
    });
    expect(parsed.spec.modal).toEqual({ ...original.spec.modal, maxInputs: 64 });
  });

  it('keeps a trailing comment and its spacing on a changed line', () => {
    const text = 'sglang:\n  args:\n    max-running-requests: 48     # guide §4: 48\n    tp: 8\n';
    expect(patchSpecText(text, { args: { 'max-running-requests': 32 }, modal: {} }).text).toBe(
      'sglang:\n  args:\n    max-running-requests: 32     # guide §4: 48\n    tp: 8\n',
    );
  });

  it('adds a lever the spec does not write at the end of its mapping, indented like it; false for an unwritten flag adds nothing', () => {
    const text = 'sglang:\n  args:\n    tp: 8   # all eight\n    # a closing comment\nmodal: { minContainers: 0 }\n';
    const patch = patchSpecText(text, {
      args: { 'max-running-requests': 40, 'disable-radix-cache': false },
      modal: { maxContainers: 2 },
    });
    expect(patch.text).toBe(
      'sglang:\n  args:\n    tp: 8   # all eight\n    max-running-requests: 40\n    # a closing comment\nmodal: { minContainers: 0, maxContainers: 2 }\n',
    );
    expect(patch.changes.map((c) => c.path)).toEqual(['sglang.args.max-running-requests', 'modal.maxContainers']);
  });

  it('leaves the text byte for byte when the spec already holds the candidate', () => {
    const patch = patchSpecText(demo, {
      args: { 'max-running-requests': 48, 'speculative-algorithm': 'EAGLE' },
      modal: { maxContainers: 1 },
    });
    expect(patch).toEqual({ text: demo, changes: [] });
  });

  it('re-serialises (comments kept, said so) only when the mapping to edit is not written at all', () => {
    const text = 'app: x   # the app\nsglang:\n  args:\n    tp: 8\n';
    const patch = patchSpecText(text, { args: {}, modal: { maxInputs: 20 } });
    expect(patch.layoutNote).toMatch(/^modal was not a mapping the spec writes/);
    expect(patch.text).toContain('# the app');
    expect(patch.text).toMatch(/modal:\n\s+maxInputs: 20/);
  });

  it('refuses YAML that does not parse', () => {
    expect(() => patchSpecText('sglang: [unclosed\n', { args: { tp: 8 }, modal: {} })).toThrow(SpecPatchError);
  });
});

describe('unifiedDiff: the patch as `diff -u` prints it (GNU diff is the oracle)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-diff-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function gnuDiff(before: string, after: string): string {
    const a = path.join(dir, 'a.yaml');
    const b = path.join(dir, 'b.yaml');
    fs.writeFileSync(a, before);
    fs.writeFileSync(b, after);
    try {
      execFileSync('diff', ['-u', '--label', 'before', '--label', 'after', a, b], { encoding: 'utf8' });
      return '';
    } catch (err) {
      return (err as { stdout: string }).stdout;
    }
  }

  const cases: Array<[string, string]> = [
    [
      'the demo patched on four levers (two hunks)',
      patchSpecText(demo, {
        args: { 'max-running-requests': 64, 'mem-fraction-static': 0.85, 'speculative-algorithm': false },
        modal: { maxInputs: 64 },
      }).text,
    ],
    ['a line added', patchSpecText(demo, { args: { 'chunked-prefill-size': 8192 }, modal: {} }).text],
    ['the first and last lines changed', `# changed\n${demo.split('\n').slice(1, -2).join('\n')}\nlast: line\n`],
    [
      'lines removed',
      demo
        .split('\n')
        .filter((_, i) => i % 7 !== 3)
        .join('\n'),
    ],
  ];

  it.each(cases)('%s', (_name, after) => {
    const ours = unifiedDiff(demo, after, { before: 'before', after: 'after' });
    expect(ours).not.toBe('');
    expect(ours).toBe(gnuDiff(demo, after));
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff(demo, demo, { before: 'a', after: 'b' })).toBe('');
  });
});
