import * as fs from 'node:fs';
import { loadSpecFile } from '../../spec/parse-spec';
import type { Spec } from '../../spec/schema';
import { EXIT_BAD_INPUT, reportBadInput } from '../bad-input';
import { printSpecIssues } from './spec-output';

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * The argument of a schedule command: a spec file (parsed, not linted) or a bare app name; undefined after printing
 * why it is neither.
 */
export async function resolveSpecOrApp(specOrApp: string): Promise<{ app: string; spec?: Spec } | undefined> {
  if (fs.existsSync(specOrApp)) {
    const parsed = await loadSpecFile(specOrApp);
    if (!parsed.ok) {
      printSpecIssues(parsed, specOrApp);
      process.exitCode = EXIT_BAD_INPUT;
      return undefined;
    }
    return { app: parsed.spec.app, spec: parsed.spec };
  }
  if (!APP_NAME.test(specOrApp)) {
    reportBadInput(`${JSON.stringify(specOrApp)} is neither a spec file nor an app name`);
    return undefined;
  }
  return { app: specOrApp };
}
