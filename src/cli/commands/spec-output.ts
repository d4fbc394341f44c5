import type { CheckResult } from '../../spec/check-spec';
import { formatSpecIssue } from '../../spec/parse-spec';

/** Writes parse issues to stderr, one line each (`glm-ops: file:line: path: message`), with no stack trace. */
export function printSpecIssues(result: Pick<CheckResult, 'errors'>, file: string): void {
  for (const issue of result.errors) console.error(`glm-ops: ${formatSpecIssue(issue, file)}`);
}

/** Parses a positive number CLI option, naming the option in the error. */
export function positiveNumberOption(name: string): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0)
      throw new Error(`${name} ${JSON.stringify(value)} must be a positive number`);
    return parsed;
  };
}
