import { resolveTuneSection } from '../../src/cli/tune-section';
import { loadExampleSpec } from '../helpers/test-spec';

describe('the tune section: validated before anything starts, errors naming the field', () => {
  const spec = loadExampleSpec('examples/local-demo.yaml');

  it('the demo spec has a valid tune section (every lever value accepted), the workload its own', () => {
    const section = resolveTuneSection(spec);
    if (!section.ok) throw new Error(JSON.stringify(section.errors));
    expect(section.tune.space.args).toEqual({
      'max-running-requests': [32, 48, 64],
      'mem-fraction-static': [0.85, 0.88, 0.95],
      'speculative-algorithm': ['EAGLE', false],
    });
    expect(section.tune.workload.concurrency).toBe(48);
    expect(section.tune.budget.trials).toBe(12);
  });
});

describe('a --space file', () => {
  const spec = loadExampleSpec('examples/local-demo.yaml');
  const errorsOf = (text: string) => {
    const section = resolveTuneSection(spec, { text });
    if (section.ok) throw new Error('expected errors');
    return section.errors.map((e) => ({ path: e.path, line: e.line, message: e.message }));
  };

  it('replaces the spec section; the workload defaults to the spec slo.load', () => {
    const section = resolveTuneSection(spec, { text: 'space:\n  modal:\n    maxContainers: [1, 2]\n' });
    if (!section.ok) throw new Error(JSON.stringify(section.errors));
    expect(section.tune.space).toEqual({ args: {}, modal: { maxContainers: [1, 2] } });
    expect(section.tune.workload).toEqual(spec.slo.load);
    expect(section.tune.strategy).toBe('guided');
  });

  it.each([
    ['a misspelt key', 'spaec:\n  args: { tp: [8] }\n', 'spaec', 1, /unknown field "spaec": did you mean "space"/],
    [
      'a value of the wrong type for its flag',
      'space:\n  args:\n    max-running-requests: [32, many]\n',
      'space.args.max-running-requests[1]',
      3,
      /"many": "max-running-requests" must be a positive integer/,
    ],
    [
      'a flag SGLang does not have',
      'space:\n  args:\n    max-runing-requests: [32]\n',
      'space.args.max-runing-requests[0]',
      3,
      /not a flag of SGLang .*did you mean max-running-requests/,
    ],
    [
      'a Modal value the spec refuses',
      'space:\n  modal:\n    maxContainers: [1, 0]\n',
      'space.modal.maxContainers[1]',
      3,
      /^0: "maxContainers" must be a whole number/,
    ],
    [
      'a range that runs backwards',
      'space:\n  args:\n    max-running-requests: { from: 64, to: 32, step: 8 }\n',
      'space.args.max-running-requests.to',
      3,
      /to 32 is below from 64/,
    ],
    [
      'a budget of no trials',
      'space:\n  args: { max-running-requests: [32] }\nbudget: { trials: 0 }\n',
      'budget.trials',
      3,
      /"trials" must be/,
    ],
    ['an empty space', 'space: {}\n', 'space', 1, /names no lever/],
    [
      'a workload too small for the SLO',
      'space:\n  args: { max-running-requests: [32] }\nworkload: { concurrency: 4, requests: 4 }\n',
      'workload.requests',
      3,
      /fewer than slo\.minSamples 8/,
    ],
  ])('%s: refused, the field named with its line', (_name, text, path, line, message) => {
    const errors = errorsOf(text);
    expect(errors.map((e) => e.path)).toContain(path);
    const error = errors.find((e) => e.path === path)!;
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message);
  });

  it('a file that is not a mapping, or not YAML, is refused', () => {
    expect(errorsOf('- a\n- b\n')[0]!.message).toMatch(/holds the tune section itself, a mapping/);
    expect(errorsOf('space: [unclosed\n')[0]!.line).toEqual(expect.any(Number));
  });

  it('a spec with no tune section and no --space file is refused, saying how to add one', () => {
    const bare = { ...spec };
    delete bare.tune;
    const section = resolveTuneSection(bare);
    expect(section.ok ? [] : section.errors).toEqual([
      { path: 'tune', message: expect.stringMatching(/has no tune section and no --space FILE/) as unknown as string },
    ]);
  });
});
