/**
 * One problem with a spec file, located by its field path (`sglang.args.mem-fraction-static`), 1-based line and
 * column, with the source line it is on.
 */
export interface SpecIssue {
  path: string;
  line?: number;
  column?: number;
  /** The text of `line`, so the message can show where the problem is without the reader opening the file. */
  source?: string;
  message: string;
}

/**
 * Renders an issue as `file:line:column: path: message`, then, when the issue has its source line, that line and a
 * caret under the column, the way compilers show a syntax error.
 */
export function formatSpecIssue(issue: SpecIssue, fileName?: string): string {
  const where = [fileName, issue.line, issue.line !== undefined ? issue.column : undefined]
    .filter((part) => part !== undefined)
    .join(':');
  const field = issue.path ? `${issue.path}: ` : '';
  const head = `${where ? `${where}: ` : ''}${field}${issue.message}`;
  if (issue.source === undefined || issue.line === undefined) return head;
  const gutter = String(issue.line);
  const caret = issue.column !== undefined ? `${' '.repeat(caretOffset(issue.source, issue.column))}^` : '';
  return `${head}\n  ${gutter} | ${issue.source.replace(/\t/g, ' ')}\n  ${' '.repeat(gutter.length)} | ${caret}`;
}

/** Spaces before the caret: the column is 1-based, and a tab in the source was printed as one space. */
function caretOffset(source: string, column: number): number {
  return Math.max(0, Math.min(column - 1, source.length));
}
