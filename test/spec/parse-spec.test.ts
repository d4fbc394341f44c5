import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSpecFile, MAX_SPEC_FILE_BYTES, parseSpecText, type ParseResult } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';

const example = readRepoFile('examples/glm-5.1-b200.yaml');

function errorsOf(result: ParseResult) {
  if (result.ok) throw new Error('expected parse errors');
  return result.errors;
}

describe('parseSpecText', () => {
  it('parses the production example with defaults filled in', () => {
    const result = parseSpecText(example);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.gpu).toEqual({ type: 'B200', count: 8 });
    expect(result.spec.local.timeScale).toBe(1);
    expect(Object.keys(result.spec.sglang.args)[0]).toBe('tp');
  });

  it('names the path and line of a wrong type', () => {
    const errors = errorsOf(parseSpecText(example.replace('mem-fraction-static: 0.88', 'mem-fraction-static: "lots"')));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('sglang.args.mem-fraction-static');
    expect(errors[0]!.line).toBe(example.split('\n').findIndex((line) => line.includes('mem-fraction-static')) + 1);
    expect(errors[0]!.message).toMatch(/between 0 and 1/);
  });

  it('rejects negative and absurd numbers with their paths', () => {
    const negative = errorsOf(parseSpecText(example.replace('maxContainers: 3', 'maxContainers: -3')));
    expect(negative[0]!.path).toBe('modal.maxContainers');
    const absurd = errorsOf(parseSpecText(example.replace('count: 8', 'count: 800')));
    expect(absurd[0]!.path).toBe('gpu.count');
    expect(absurd[0]!.line).toBe(12);
    const infinite = errorsOf(parseSpecText(example.replace('startupTimeout: 900', 'startupTimeout: .inf')));
    expect(infinite[0]!.path).toBe('health.startupTimeout');
  });

  it('reports duplicate keys with their line', () => {
    const text = example.replace('  weightsGB: 700\n', '  weightsGB: 700\n  weightsGB: 7\n');
    const errors = errorsOf(parseSpecText(text));
    expect(errors[0]!.message).toMatch(/duplicate key/);
    expect(errors[0]!.line).toBe(text.split('\n').indexOf('  weightsGB: 7') + 1);
    expect(errors[0]!.path).toBe('model.weightsGB');
  });

  it('reports malformed YAML with a line and never throws', () => {
    const errors = errorsOf(parseSpecText('app: x\nmodel: [unclosed\ngpu: {'));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.line).toBeGreaterThanOrEqual(2);
    expect(errors[0]!.message).toMatch(/YAML/);
  });

  it('names an unknown field and a missing one', () => {
    const unknown = errorsOf(parseSpecText(example.replace('slo: {', 'sloo: {')));
    expect(unknown.some((e) => e.path === 'sloo' && /unknown field/.test(e.message))).toBe(true);
    const missing = errorsOf(parseSpecText(example.replace('  servedName: glm-5.1\n', '')));
    expect(missing[0]!).toMatchObject({ path: 'model.servedName', line: 7 });
    expect(missing[0]!.message).toMatch(/missing/);
  });

  it.each([
    ['whitespace split', 'tool-call-parser: "glm47 --api-key stolen"', /whitespace/],
    ['shell metacharacters', 'tool-call-parser: "glm47;rm"', /shell metacharacters/],
    ['command substitution', 'tool-call-parser: "$(id)"', /shell metacharacters/],
    ['newline', 'tool-call-parser: "glm47\\nx"', /newline/],
    ['leading dash', 'tool-call-parser: "--reasoning-parser"', /starts with "-"/],
  ])('refuses %s in a flag value, naming the flag', (_name, line, pattern) => {
    const errors = errorsOf(parseSpecText(example.replace('tool-call-parser: glm47', line)));
    expect(errors[0]!.path).toBe('sglang.args.tool-call-parser');
    expect(errors[0]!.message).toMatch(pattern);
  });

  it('refuses bad flag names and reserved flags', () => {
    expect(errorsOf(parseSpecText(example.replace('ep: 1', '--ep: 1')))[0]!.message).toMatch(/without leading dashes/);
    expect(errorsOf(parseSpecText(example.replace('ep: 1', 'Ep_X: 1')))[0]!.path).toBe('sglang.args.Ep_X');
    const apiKey = errorsOf(parseSpecText(example.replace('ep: 1', 'api-key: sk-live-123')));
    expect(apiKey[0]!.message).toMatch(/never put a key in the spec/);
    expect(JSON.stringify(apiKey)).not.toContain('sk-live-123');
  });

  it('passes unknown SGLang flags through', () => {
    const result = parseSpecText(
      example.replace('ep: 1', 'ep: 1\n    disable-custom-all-reduce: true\n    chunked-prefill-size: 8192'),
    );
    expect(result.ok && result.spec.sglang.args['disable-custom-all-reduce']).toBe(true);
  });

  it('rejects empty, scalar, list and oversized documents', () => {
    expect(errorsOf(parseSpecText(''))[0]!.message).toMatch(/empty/);
    expect(errorsOf(parseSpecText('just a string'))[0]!.message).toMatch(/mapping/);
    expect(errorsOf(parseSpecText('- a\n- b'))[0]!.message).toMatch(/list/);
    expect(errorsOf(parseSpecText('a'.repeat(MAX_SPEC_FILE_BYTES + 1)))[0]!.message).toMatch(/limit/);
  });

  it('stops alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(errorsOf(parseSpecText(bomb)).length).toBeGreaterThan(0);
  });
});

describe('loadSpecFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-spec-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string | Buffer): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };

  it('loads a file', async () => {
    expect((await loadSpecFile(write('ok.yaml', example))).ok).toBe(true);
  });

  it('refuses a 10 MB file without reading it as YAML', async () => {
    const errors = errorsOf(await loadSpecFile(write('big.yaml', Buffer.alloc(10 * 1024 * 1024, 'a'))));
    expect(errors[0]!.message).toMatch(/10485760 bytes; the limit is/);
  });

  it('refuses binary garbage', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    expect(errorsOf(await loadSpecFile(write('garbage.bin', garbage)))[0]!.message).toMatch(/binary|UTF-8/);
    expect(
      errorsOf(await loadSpecFile(write('latin1.yaml', Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]))))[0]!.message,
    ).toMatch(/UTF-8/);
  });

  it('reports a missing file and a directory', async () => {
    expect(errorsOf(await loadSpecFile(path.join(dir, 'nope.yaml')))[0]!.message).toMatch(/no such file/);
    expect(errorsOf(await loadSpecFile(dir))[0]!.message).toMatch(/not a regular file/);
  });

  it('accepts a UTF-8 byte-order mark', async () => {
    expect((await loadSpecFile(write('bom.yaml', `\uFEFF${example}`))).ok).toBe(true);
  });
});
