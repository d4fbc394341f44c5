import { findingOf, formatFinding } from '../../src/spec/finding';

test('a finding formats as one line naming the field, the value, the rule, the reason and the fix', () => {
  const finding = findingOf(
    { id: 'mem-fraction-above-max', reason: 'guide §4' },
    { level: 'error', path: 'sglang.args.mem-fraction-static', message: '0.95 exceeds 0.88 on B200', fix: 'lower it' },
  );
  expect(formatFinding(finding)).toBe(
    'sglang.args.mem-fraction-static: 0.95 exceeds 0.88 on B200 [mem-fraction-above-max] (why: guide §4; fix: lower it)',
  );
});
