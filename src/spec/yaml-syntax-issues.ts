import type * as YAML from 'yaml';
import { maskSecretsInLine } from './secret-text';
import type { SpecIssue } from './spec-issue';

/**
 * The YAML parser's errors as one issue per mistake. After a syntax error the parser recovers by guessing, and each
 * guess can raise a further error on the same or the next line (a missing ":" after `modal` yields seven); those
 * follow-on errors say nothing new, so an error that starts within one line of the previous one's end is dropped.
 * Positions come from the parser itself (line, column, the source line); no field path is given, because a document
 * that does not parse has no fields yet — except for duplicate keys, where the structure is intact.
 */
export function yamlSyntaxIssues(
  text: string,
  errors: readonly YAML.YAMLError[],
  lineCounter: YAML.LineCounter,
  pathAtOffset: (offset: number) => string,
): SpecIssue[] {
  const lines = text.split(/\r?\n/);
  const issues: SpecIssue[] = [];
  let cascadeEndLine = -Infinity;
  for (const error of [...errors].sort((a, b) => a.pos[0] - b.pos[0])) {
    const start = lineCounter.linePos(error.pos[0]);
    const endLine = lineCounter.linePos(Math.max(error.pos[0], error.pos[1] - 1)).line;
    const isDuplicateKey = error.code === 'DUPLICATE_KEY';
    const isFollowOn = !isDuplicateKey && start.line <= cascadeEndLine + 1;
    if (!isDuplicateKey) cascadeEndLine = Math.max(cascadeEndLine, endLine);
    if (isFollowOn) continue;
    issues.push({
      path: isDuplicateKey ? pathAtOffset(error.pos[0]) : '',
      line: start.line,
      column: start.col,
      source: maskSecretsInLine(lines[start.line - 1] ?? ''),
      message: describeYamlError(error, lines, start),
    });
  }
  return issues;
}

/** What the mistake is and how to fix it, in the terms someone editing a spec uses. */
function describeYamlError(
  error: YAML.YAMLError,
  lines: readonly string[],
  at: ReturnType<YAML.LineCounter['linePos']>,
): string {
  const parserText = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  const sourceLine = lines[at.line - 1] ?? '';
  const rest = sourceLine.slice(at.col - 1);
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return 'duplicate key: each key may appear once';
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: a tab indents this line; indent with spaces';
    case 'BAD_INDENT':
      if (/\bend with a [\]}]/.test(parserText)) return `YAML syntax error: ${bracketProblem(parserText)}`;
      return `YAML syntax error: the keys of one mapping must start in the same column; this one starts in column ${indentColumn(sourceLine)}, the one above in column ${indentColumn(previousContentLine(lines, at.line))}`;
    case 'MULTILINE_IMPLICIT_KEY':
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (/^\s*-(\s|$)/.test(sourceLine))
        return 'YAML syntax error: a list item ("- ...") where the mapping continues with "key: value"; remove the "-" or start the list on its own key';
      if (/:(\s|$)/.test(rest))
        return 'YAML syntax error: two ":" on one line (key: key: value); quote a value that contains ": ", or put the nested mapping on its own indented lines';
      if (!sourceLine.includes(':'))
        return `YAML syntax error: ${JSON.stringify(maskSecretsInLine(sourceLine.trim()))} has no ":"; write "key: value" (or "key:" before a nested mapping)`;
      return 'YAML syntax error: the next line is indented deeper than this key, so it reads as part of this value; line its key up with this one';
    case 'BLOCK_IN_FLOW':
      return 'YAML syntax error: inside { } or [ ], separate the items with commas';
    case 'BAD_DQ_ESCAPE':
      return 'YAML syntax error: an invalid \\ escape in a double-quoted string; use single quotes to keep backslashes as written';
    case 'MISSING_CHAR':
      if (/closing ["']quote/.test(parserText))
        return 'YAML syntax error: a quoted string is not closed; add the closing quote';
      if (/map values/.test(parserText)) return 'YAML syntax error: a key without ":"; write "key: value"';
      return `YAML syntax error: ${/\bend with a [\]}]/.test(parserText) ? bracketProblem(parserText) : parserText}`;
    default:
      return `YAML syntax error: ${/\bend with a [\]}]/.test(parserText) ? bracketProblem(parserText) : parserText}`;
  }
}

function bracketProblem(parserText: string): string {
  const [open, close] = parserText.includes('end with a ]') ? ['[', ']'] : ['{', '}'];
  return `a "${open}" is not closed before the next key (or its continuation line is not indented); add the "${close}"`;
}

/** 1-based column of a line's first non-space character. */
function indentColumn(line: string): number {
  return line.length - line.trimStart().length + 1;
}

/** The nearest line above `lineNumber` (1-based) that holds more than a comment. */
function previousContentLine(lines: readonly string[], lineNumber: number): string {
  for (let index = lineNumber - 2; index >= 0; index -= 1) {
    const line = lines[index] ?? '';
    if (line.trim() !== '' && !line.trim().startsWith('#')) return line;
  }
  return '';
}
