import { formatSpecIssue, parseSpecText, type ParseResult } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';

const example = readRepoFile('examples/glm-5.1-b200.yaml');
const lineOf = (text: string, needle: string | RegExp): number =>
  text.split('\n').findIndex((line) => (typeof needle === 'string' ? line.includes(needle) : needle.test(line))) + 1;

function errorsOf(result: ParseResult) {
  if (result.ok) throw new Error('expected parse errors');
  return result.errors;
}

/** The yaml parser's own phrases: none may reach the user. */
const PARSER_WORDING = /Implicit keys|Nested mappings|compact mappings|map values|Flow (sequence|map)|block collection/;

describe('YAML syntax errors: one message per mistake, with line, column and source line', () => {
  it.each([
    // A missing ":" after a top-level key makes the parser raise seven errors down the mapping.
    [
      'a key without ":" before a nested mapping',
      example.replace('modal:\n', 'modal\n'),
      /^modal$/,
      1,
      /"modal" has no ":"/,
    ],
    [
      'a key and value without ":"',
      example.replace('  maxInputs: 20', '  maxInputs 20'),
      'maxInputs 20',
      3,
      /key without ":"/,
    ],
    [
      'a key indented one column less',
      example.replace('  servedName: glm-5.1', ' servedName: glm-5.1'),
      ' servedName',
      1,
      /same column; this one starts in column 2, the one above in column 3/,
    ],
    ['a stray list dash', example.replace('  maxInputs: 20', '  - maxInputs: 20'), '- maxInputs', 1, /list item/],
    [
      'two colons on a line',
      example.replace('app: glm-5.1-production', 'app: a: b'),
      'app: a: b',
      6,
      /two ":" on one line/,
    ],
    ['a tab', example.replace('  maxInputs: 20', '\tmaxInputs: 20'), '\tmaxInputs', 1, /tab/],
    // The caret goes where the closing quote is missing: the end of the line.
    ['an unclosed quote', example.replace('tp: 8', "tp: '8"), "tp: '8", 11, /quoted string is not closed/],
    [
      'a missing comma in { }',
      example.replace('{ type: B200, count: 8 }', '{ type: B200 count: 8 }'),
      'gpu: {',
      14,
      /commas/,
    ],
  ])('%s', (_name, text, needle, column, message) => {
    const errors = errorsOf(parseSpecText(text));
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toMatchObject({ path: '', line: lineOf(text, needle), column });
    expect(error!.source).toBe(text.split('\n')[error!.line! - 1]);
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toMatch(PARSER_WORDING);
  });

  it('keeps independent mistakes apart: a tab near the top and a missing ":" further down are two messages', () => {
    const text = example.replace('tp: 8', 'tp: 8\n\ttrust: 1').replace('  maxInputs: 20', '  maxInputs 20');
    const errors = errorsOf(parseSpecText(text));
    expect(errors.map((error) => error.line)).toEqual([lineOf(text, '\ttrust'), lineOf(text, 'maxInputs 20')]);
  });

  it('stops before schema validation: a wrong type elsewhere is not reported beside the syntax error', () => {
    const text = example.replace('count: 8', 'count: "eight"').replace('  maxInputs: 20', '  maxInputs 20');
    const errors = errorsOf(parseSpecText(text));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/YAML syntax error/);
  });

  it('renders file:line:column, the source line and a caret under the column', () => {
    const text = example.replace('  maxInputs: 20', '  maxInputs 20');
    const [error] = errorsOf(parseSpecText(text));
    const line = lineOf(text, 'maxInputs 20');
    expect(formatSpecIssue(error!, 'spec.yaml').split('\n')).toEqual([
      `spec.yaml:${line}:3: YAML syntax error: a key without ":"; write "key: value"`,
      `  ${line} |   maxInputs 20`,
      `  ${' '.repeat(String(line).length)} |   ^`,
    ]);
  });

  it('a duplicate key keeps its field path', () => {
    const text = example.replace('  weightsGB: 700\n', '  weightsGB: 700\n  weightsGB: 7\n');
    expect(errorsOf(parseSpecText(text))[0]).toMatchObject({ path: 'model.weightsGB', column: 3 });
  });

  it('never quotes a key pasted into the spec', () => {
    const text = example.replace('  ep: 1', '  api-key: "sk-live-0123456789abcdef');
    const errors = errorsOf(parseSpecText(text));
    expect(JSON.stringify(errors)).not.toContain('0123456789abcdef');
    expect(errors[0]!.source).toMatch(/api-key: <not shown>/);
  });
});
