import { DEFAULT_COLUMNS, fitLine, terminalColumns, wrapText } from '../../src/cli/terminal-width';

describe('wrapText', () => {
  const guide =
    'guide: 3.0 min–7.1 min on real hardware; 1.36 s–5.84 s at time scale 0.002 — provision ~30 s + weight load 3–5 min (guide §7)';

  test.each([40, 80, 100, 120])('at %i columns no line is longer and every word is whole', (columns) => {
    const lines = wrapText(guide, columns, { firstIndent: '    ', indent: '           ' });
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(columns);
    expect(lines.join(' ').split(/\s+/).filter(Boolean)).toEqual(guide.split(' '));
  });

  test('continuation lines take the hanging indent; the first takes its own', () => {
    expect(wrapText('aaa bbb ccc ddd', 9, { firstIndent: '> ', indent: '    ' })).toEqual([
      '> aaa bbb',
      '    ccc',
      '    ddd',
    ]);
  });

  test('a number stays with its unit and a change stays whole', () => {
    expect(wrapText('weight load 1.36 s', 16)).toEqual(['weight load', '1.36 s']);
    expect(wrapText('lower it 0.88 → 0.85', 14)).toEqual(['lower it', '0.88 → 0.85']);
  });

  test('a word longer than a line is cut where the line ends, not overflowing', () => {
    const lines = wrapText(`see ${'x'.repeat(25)}`, 10);
    expect(lines).toEqual(['see', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx']);
  });

  test('empty text is one empty line (with its indent)', () => {
    expect(wrapText('', 20, { firstIndent: '  ' })).toEqual(['  ']);
  });
});

describe('fitLine', () => {
  test('short lines are kept, long ones cut with an ellipsis, at a word when that loses little', () => {
    expect(fitLine('short', 10)).toBe('short');
    expect(fitLine('sentinel valid (8 files), download skipped; volume committed', 40)).toBe(
      'sentinel valid (8 files), download…',
    );
    expect(fitLine('x'.repeat(30), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(fitLine('sentinel valid (8 files), download skipped', 30).length).toBeLessThanOrEqual(30);
  });
});

describe('terminalColumns', () => {
  const stdout = { isTTY: process.stdout.isTTY, columns: process.stdout.columns };
  afterEach(() => {
    Object.assign(process.stdout, stdout);
  });

  test("a terminal's width; 80 when neither the stream nor standard output is a terminal", () => {
    Object.assign(process.stdout, { isTTY: false, columns: undefined });
    expect(terminalColumns({ isTTY: true, columns: 120 })).toBe(120);
    expect(terminalColumns({ isTTY: false })).toBe(DEFAULT_COLUMNS);
    expect(DEFAULT_COLUMNS).toBe(80);
  });

  test("standard error redirected: standard output's terminal width is used", () => {
    Object.assign(process.stdout, { isTTY: true, columns: 132 });
    expect(terminalColumns({ isTTY: false })).toBe(132);
  });
});
