/** The width reports are laid out for when the output is not a terminal (a pipe, a file, a CI log). */
export const DEFAULT_COLUMNS = 80;

/** Narrowest layout the reports try to keep: below it, lines are cut rather than squeezed further. */
const MIN_COLUMNS = 40;

/** What a stream tells about the terminal behind it (`process.stdout`, `process.stderr`). */
export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
}

/**
 * The columns to lay a report out for: the terminal's width when the stream is one (else standard output's, which is
 * the same terminal when only one of them is redirected), 80 when neither is a terminal.
 */
export function terminalColumns(stream: TerminalStream = process.stdout): number {
  for (const candidate of [stream, process.stdout]) {
    if (candidate.isTTY && candidate.columns && candidate.columns > 0) return Math.max(MIN_COLUMNS, candidate.columns);
  }
  return DEFAULT_COLUMNS;
}

// A number and its unit stay on one line (`1.36 s`, `700 GB`), as does a change (`0.88 → 0.85`).
const NUMBER_AND_UNIT = /(\d) (s|ms|min|h|[KMGT]i?B|%)(?=[\s,;:)–.]|$)/g;

/** Indents of a wrapped paragraph: the first line's, and every later line's (a hanging indent). */
export interface WrapOptions {
  firstIndent?: string;
  indent?: string;
}

/**
 * Wraps text at word boundaries so no line is longer than `columns`, with a hanging indent for the lines after the
 * first. Runs of spaces collapse; a word longer than a whole line is cut (a URL, a path) rather than overflowing.
 */
export function wrapText(text: string, columns: number, options: WrapOptions = {}): string[] {
  const firstIndent = options.firstIndent ?? '';
  const indent = options.indent ?? firstIndent;
  const words = text
    .replace(NUMBER_AND_UNIT, '$1\u00a0$2')
    .replace(/ → /g, '\u00a0→\u00a0')
    .replace(/guide §/g, 'guide\u00a0§')
    .split(/[ \t\r\n]+/)
    .filter((word) => word !== '');
  const lines: string[] = [];
  let line = firstIndent;
  let hasWord = false;
  const push = (): void => {
    lines.push(line);
    line = indent;
    hasWord = false;
  };
  for (const word of words) {
    let rest = word;
    while (rest !== '') {
      const room = columns - line.length - (hasWord ? 1 : 0);
      if (rest.length <= room) {
        line += `${hasWord ? ' ' : ''}${rest}`;
        hasWord = true;
        rest = '';
      } else if (hasWord) {
        push();
      } else {
        // Longer than a whole line: cut it where the line ends.
        const take = Math.max(1, columns - line.length);
        line += rest.slice(0, take);
        rest = rest.slice(take);
        hasWord = true;
        if (rest !== '') push();
      }
    }
  }
  if (hasWord || lines.length === 0) lines.push(line);
  return lines.map((wrapped) => wrapped.replace(/\u00a0/g, ' '));
}

/** One line cut to `columns` with an ellipsis, for table cells that must stay on their row. */
export function fitLine(text: string, columns: number): string {
  if (text.length <= columns) return text;
  const cut = text.slice(0, Math.max(0, columns - 1));
  // Prefer ending at a word when that loses little.
  const space = cut.lastIndexOf(' ');
  return `${space > cut.length - 12 && space > 0 ? cut.slice(0, space) : cut}…`;
}
