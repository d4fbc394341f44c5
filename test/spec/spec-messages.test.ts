import { parseSpecText, type ParseResult } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';

const example = readRepoFile('examples/glm-5.1-b200.yaml');

function errorsOf(result: ParseResult) {
  if (result.ok) throw new Error('expected parse errors');
  return result.errors;
}
const only = (text: string) => {
  const errors = errorsOf(parseSpecText(text));
  expect(errors).toHaveLength(1);
  return errors[0]!;
};

describe('type errors name the field, what it must be, and what was written', () => {
  it('gpu.count: "eight" reads like tp: "eight"', () => {
    expect(only(example.replace('count: 8', 'count: "eight"'))).toMatchObject({
      path: 'gpu.count',
      line: 12,
      column: 27,
      message: '"count" must be a whole number from 1 to 8, got "eight"',
    });
    expect(only(example.replace('tp: 8', 'tp: "eight"')).message).toBe('"tp" must be a positive integer, got "eight"');
  });

  it.each([
    [
      'a fraction where a whole number goes',
      'count: 8',
      'count: 7.5',
      'gpu.count',
      '"count" must be a whole number from 1 to 8, got 7.5',
    ],
    [
      'a number past its maximum',
      'count: 8',
      'count: 800',
      'gpu.count',
      '"count" must be a whole number from 1 to 8, got 800',
    ],
    [
      'a number below its minimum',
      'maxContainers: 3',
      'maxContainers: 0',
      'modal.maxContainers',
      '"maxContainers" must be a whole number from 1 to 100, got 0',
    ],
    [
      'a negative size',
      'weightsGB: 700',
      'weightsGB: -1',
      'model.weightsGB',
      '"weightsGB" must be a number above 0 and at most 100000, got -1',
    ],
    [
      'infinity',
      'startupTimeout: 900',
      'startupTimeout: .inf',
      'health.startupTimeout',
      '"startupTimeout" must be a number above 0 and at most 86400, got .inf',
    ],
    [
      'text where a number goes',
      'maxInputs: 20',
      'maxInputs: lots',
      'modal.maxInputs',
      '"maxInputs" must be a whole number from 1 to 10000, got "lots"',
    ],
    [
      'text where a switch goes',
      'enabled: false',
      'enabled: "no"',
      'keepWarm.enabled',
      '"enabled" must be true or false, got "no"',
    ],
    [
      'a choice misspelled',
      'platform: modal',
      'platform: modall',
      'platform',
      '"platform" must be one of "modal", "local", got "modall": did you mean "modal"?',
    ],
    [
      'a scalar where a mapping goes',
      'gpu: { type: B200, count: 8 }',
      'gpu: B200',
      'gpu',
      '"gpu" must be a mapping of fields (key: value lines, or { key: value }), got "B200"',
    ],
    [
      'empty text',
      'app: glm-5.1-production',
      'app: ""',
      'app',
      '"app" must be non-empty text of at most 63 characters, got ""',
    ],
    ['a pattern', 'repo: zai-org/GLM-5.1-FP8', 'repo: glm', 'model.repo', '"repo" must be "owner/name", got "glm"'],
    [
      'a list as a flag value',
      'tp: 8',
      'tp: 8\n    foo: [1, 2]',
      'sglang.args.foo',
      '"foo" must be text, a number or true/false, got a list (2 items)',
    ],
    [
      'a bad record key',
      'revision-not-pinned:',
      'Bad_Key:',
      'lint.acknowledge.Bad_Key',
      'the key "Bad_Key" is not allowed here: must be a lint rule id',
    ],
    [
      'a missing required field',
      '  servedName: glm-5.1\n',
      '',
      'model.servedName',
      '"servedName" is required and missing: add it (text)',
    ],
  ])('%s', (_name, from, to, path, message) => {
    const text = example.replace(from, to);
    expect(text).not.toBe(example);
    expect(only(text)).toMatchObject({ path, message });
  });

  it('an IANA-zone refinement names the field and the value', () => {
    const text = example.replace(
      'slo: {',
      'weights: { verify: { schedule: "0 3 * * SUN", timezone: Mars/Base } }\nslo: {',
    );
    expect(only(text)).toMatchObject({
      path: 'weights.verify.timezone',
      message:
        '"timezone" is not an IANA time zone, got "Mars/Base": use a name such as UTC, America/New_York or Europe/Berlin',
    });
  });

  it('never echoes the value of a secret-looking field', () => {
    const text = example.replace('secrets: { apiKey: glm-api-key }', 'secrets: { apiKey: "sk-live 0123456789" }');
    const error = only(text);
    expect(error.path).toBe('secrets.apiKey');
    expect(JSON.stringify(error)).not.toContain('0123456789');
  });
});

describe('unknown keys: "did you mean" at every level', () => {
  it.each([
    ['top level', 'slo: {', 'sloo: {', 'sloo', 'unknown field "sloo": did you mean "slo"?'],
    [
      'model',
      'servedName:',
      'servedNam:',
      'model.servedNam',
      'unknown field "servedNam": did you mean "servedName" (required)?',
    ],
    [
      'modal',
      '  maxInputs: 20',
      '  maxInput: 20',
      'modal.maxInput',
      'unknown field "maxInput": did you mean "maxInputs"?',
    ],
    [
      'gpu (flow mapping)',
      'count: 8 }',
      'count: 8, dollarsPerGpuHr: 5 }',
      'gpu.dollarsPerGpuHr',
      'unknown field "dollarsPerGpuHr": did you mean "dollarsPerGpuHour"?',
    ],
    [
      'lint',
      'acknowledge:',
      'acknowledg:',
      'lint.acknowledg',
      'unknown field "acknowledg": did you mean "acknowledge"?',
    ],
    [
      'an acknowledgement',
      '      reason: "the guide deploys',
      '      reasn: "the guide deploys',
      'lint.acknowledge.revision-not-pinned.reasn',
      'unknown field "reasn": did you mean "reason" (required)?',
    ],
    [
      'nothing close',
      '  maxInputs: 20',
      '  maxInputs: 20\n  zzz: 1',
      'modal.zzz',
      'unknown field "zzz": modal has only minContainers, maxContainers, scaledownWindow, maxInputs',
    ],
  ])('%s', (_name, from, to, path, message) => {
    const text = example.replace(from, to);
    expect(text).not.toBe(example);
    const error = only(text);
    expect(error).toMatchObject({ path, message });
    // The caret points at the unknown key itself.
    const key = path.split('.').pop()!;
    expect(error.source!.slice(error.column! - 1).startsWith(key)).toBe(true);
  });

  it('nested under local.compile and weights.verify', () => {
    const local = example.replace('slo: {', 'local: { compile: { second: 5 } }\nslo: {');
    expect(only(local)).toMatchObject({
      path: 'local.compile.second',
      message: 'unknown field "second": did you mean "seconds"?',
    });
    const verify = example.replace('slo: {', 'weights: { verify: { schedul: "0 3 * * SUN" } }\nslo: {');
    expect(only(verify)).toMatchObject({
      path: 'weights.verify.schedul',
      message: 'unknown field "schedul": did you mean "schedule" (required)?',
    });
  });
});
