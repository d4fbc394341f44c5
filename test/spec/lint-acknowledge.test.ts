import { createSpecActivities } from '../../src/activities/spec-activities';
import { checkSpecText } from '../../src/spec/check-spec';
import { describeAcknowledgement, lintSpecReport } from '../../src/spec/lint';
import { readRepoFile } from '../helpers/repo-files';
import { loadExampleSpec } from '../helpers/test-spec';

const example = readRepoFile('examples/glm-5.1-b200.yaml');

describe('lint.acknowledge names the value it accepts', () => {
  it("the b200 example accepts the guide's maxInputs 20 below 48 running requests, and lists it as acknowledged", () => {
    const result = checkSpecText(example);
    expect(result.errors).toEqual([]);
    expect(result.findings).toEqual([]);
    const maxInputs = result.acknowledged.find((finding) => finding.rule === 'max-inputs-below-running-requests');
    expect(maxInputs).toMatchObject({ path: 'modal.maxInputs', acceptedValue: 20 });
    expect(describeAcknowledgement(maxInputs!)).toMatch(
      /^acknowledged \(accepts modal\.maxInputs 20\): the guide's values/,
    );
  });

  it('maxInputs 8 fires again, naming the accepted value and the new one', () => {
    const result = checkSpecText(example.replace('  maxInputs: 20', '  maxInputs: 8'));
    const finding = result.findings.find((f) => f.rule === 'max-inputs-below-running-requests');
    expect(finding).toMatchObject({ level: 'warning', path: 'modal.maxInputs' });
    expect(finding!.message).toContain(
      '(lint.acknowledge.max-inputs-below-running-requests accepts modal.maxInputs 20, not 8)',
    );
    expect(finding!.fix).toContain('set lint.acknowledge.max-inputs-below-running-requests.value to 8');
    expect(result.acknowledged.map((f) => f.rule)).toEqual(['revision-not-pinned']);
  });

  it('a value written as text does not accept the number', () => {
    const result = checkSpecText(example.replace('      value: 20 ', '      value: "20"'));
    expect(result.findings.map((f) => f.message).join('\n')).toContain('accepts modal.maxInputs "20", not 20');
  });

  it('null accepts an unset field: eagle-max-running-requests without max-running-requests', () => {
    const text = example
      .replace('    max-running-requests: 48\n', '')
      .replace(
        '    revision-not-pinned:\n',
        '    eagle-max-running-requests: { value: null, reason: "SGLang default measured" }\n    revision-not-pinned:\n',
      );
    const result = checkSpecText(text);
    expect(result.findings.map((f) => f.rule)).not.toContain('eagle-max-running-requests');
    expect(result.acknowledged.find((f) => f.rule === 'eagle-max-running-requests')).toMatchObject({
      acceptedValue: null,
    });
  });

  it('the older reason-only form still silences its rule, with a warning that asks for the value', () => {
    const text = example.replace(
      / {4}max-inputs-below-running-requests:\n {6}value: 20.*\n {6}reason: (.*)\n/,
      '    max-inputs-below-running-requests: $1\n',
    );
    expect(text).not.toBe(example);
    const result = checkSpecText(text.replace('  maxInputs: 20', '  maxInputs: 8'));
    expect(result.errors).toEqual([]);
    expect(result.acknowledged.find((f) => f.rule === 'max-inputs-below-running-requests')).toBeDefined();
    expect(
      describeAcknowledgement(result.acknowledged.find((f) => f.rule === 'max-inputs-below-running-requests')!),
    ).toMatch(/^acknowledged \(any value of modal\.maxInputs\)/);
    expect(result.findings).toEqual([
      expect.objectContaining({
        rule: 'lint-acknowledge-without-value',
        level: 'warning',
        path: 'lint.acknowledge.max-inputs-below-running-requests',
        fix: expect.stringContaining('max-inputs-below-running-requests: { value: 8, reason: "…" }'),
      }),
    ]);
  });

  it('an acknowledgement of an unknown rule suggests the rule meant', () => {
    const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');
    const report = lintSpecReport({
      ...spec,
      lint: { acknowledge: { ...spec.lint!.acknowledge, 'revison-not-pinned': { value: 'main', reason: 'typo' } } },
    });
    expect(report.findings).toEqual([
      expect.objectContaining({
        rule: 'lint-acknowledge-unknown',
        message: expect.stringContaining('did you mean revision-not-pinned?'),
      }),
    ]);
  });

  it("the rollout's validate step returns the acknowledged warnings beside the open ones", async () => {
    const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');
    const validation = await createSpecActivities().validateSpec({ spec });
    expect(validation.warnings).toEqual([]);
    expect(validation.acknowledged).toEqual([
      expect.stringMatching(/^modal\.maxInputs: .* — acknowledged \(accepts modal\.maxInputs 20\): /),
      expect.stringMatching(
        /^model\.revision: .*\[revision-not-pinned\].* — acknowledged \(accepts model\.revision main\): /,
      ),
    ]);
    const worse = await createSpecActivities().validateSpec({
      spec: { ...spec, modal: { ...spec.modal, maxInputs: 8 } },
    });
    expect(worse.warnings).toEqual([expect.stringMatching(/^modal\.maxInputs: .*accepts modal\.maxInputs 20, not 8/)]);
  });

  it("the validate step words a wrong type in a workflow's input like spec check does", async () => {
    const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');
    await expect(
      createSpecActivities().validateSpec({ spec: { ...spec, gpu: { ...spec.gpu, count: 'eight' } } }),
    ).rejects.toThrow('gpu.count: "count" must be a whole number from 1 to 8, got "eight"');
  });
});
