import { EXIT_BAD_INPUT } from './bad-input';
import { checkSpecFile } from '../spec/check-spec';
import { formatFinding } from '../spec/finding';
import { formatSpecIssue } from '../spec/parse-spec';
import type { Spec } from '../spec/schema';

/**
 * Loads and lints a spec for a command that is about to act on it. Prints every finding; returns undefined when
 * there is any parse error or error-level finding, so nothing is started, and sets the exit code for bad input.
 */
export async function loadDeployableSpec(file: string): Promise<Spec | undefined> {
  const checked = await checkSpecFile(file);
  for (const issue of checked.errors) console.error(formatSpecIssue(issue, file));
  for (const finding of checked.findings) {
    const line = `${finding.level}: ${formatFinding(finding)}`;
    if (finding.level === 'error') console.error(line);
    else console.warn(line);
  }
  if (checked.errors.length > 0 || checked.findings.some((f) => f.level === 'error') || !checked.spec) {
    process.exitCode = EXIT_BAD_INPUT;
    return undefined;
  }
  return checked.spec;
}
