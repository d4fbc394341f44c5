import { formatDuration, renderCurrentDetails, runningSince } from '../../src/workflows/current-details';
import { imageName, shortRevision, STEP_SUMMARY_MAX_CHARS, stepSummary } from '../../src/workflows/step-summary';

describe('current details (the markdown the Temporal UI renders)', () => {
  it('leads with the bold headline, then a GFM table of phase | state | outcome | time, then the notes', () => {
    expect(
      renderCurrentDetails({
        headline: 'demo: v2 serving',
        rows: [
          { phase: 'weights', state: 'done', outcome: 'downloaded 9 files (210.9 MB)', time: '4.20 s' },
          { phase: 'health', state: 'pending' },
        ],
        notes: ['compensation done: stop the app'],
      }),
    ).toBe(
      [
        '**demo: v2 serving**',
        '',
        '| phase | state | outcome | time |',
        '| --- | --- | --- | --- |',
        '| weights | done | downloaded 9 files (210.9 MB) | 4.20 s |',
        '| health | pending |  |  |',
        '',
        '- compensation done: stop the app',
      ].join('\n'),
    );
  });

  it('keeps a cell one cell: a pipe, a newline or markdown syntax in an outcome renders as the text', () => {
    const markdown = renderCurrentDetails({
      headline: 'x',
      rows: [{ phase: 'smoke', state: 'failed', outcome: 'a | b\n  second line *bold* model_00003 `x` <img>' }],
    });
    const row = markdown.split('\n').find((line) => line.startsWith('| smoke'))!;
    expect(row).toBe('| smoke | failed | a \\| b second line \\*bold\\* model\\_00003 \\`x\\` \\<img\\> |  |');
    // Four cells: the only unescaped pipes are the cell borders.
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(4);
  });

  it('a headline alone is the whole details (the keep-warm ping)', () => {
    expect(renderCurrentDetails({ headline: 'warm: /health 200 in 12 ms' })).toBe('**warm: /health 200 in 12 ms**');
  });

  it('times read in their own unit', () => {
    expect(formatDuration(420)).toBe('0.42 s');
    expect(formatDuration(42_300)).toBe('42.3 s');
    expect(formatDuration(192_000)).toBe('3 min 12 s');
    expect(formatDuration(3_840_000)).toBe('1 h 04 min');
    expect(runningSince('2026-12-01T19:04:12.345Z')).toBe('since 19:04:12 UTC');
  });
});

describe('activity summaries', () => {
  it('are cut with an ellipsis at the limit, on a code-point boundary', () => {
    expect(stepSummary('DeepGEMM compile for B200')).toBe('DeepGEMM compile for B200');
    const long = stepSummary(`Deploy ${'x'.repeat(100)}`);
    expect(Array.from(long)).toHaveLength(STEP_SUMMARY_MAX_CHARS);
    expect(long.endsWith('…')).toBe(true);
    const emoji = stepSummary('🚀'.repeat(80));
    expect(Array.from(emoji)).toHaveLength(STEP_SUMMARY_MAX_CHARS);
    expect(emoji).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('name an image without its owner and a commit by its first 12 characters', () => {
    expect(imageName('lmsysorg/sglang:v0.5.10')).toBe('sglang:v0.5.10');
    expect(imageName('sglang:v0.5.10')).toBe('sglang:v0.5.10');
    expect(shortRevision('c0ffee0000000000000000000000000000000001')).toBe('c0ffee000000');
    expect(shortRevision('main')).toBe('main');
  });
});
