import * as z from 'zod';
import { formatFinding } from '../../spec/finding';
import { lintSpec } from '../../spec/lint';
import { Spec } from '../../spec/schema';
import { SpecRefusedError } from './local-platform-errors';

/**
 * Validates a spec handed to deploy before anything starts: the schema first, then the guide's lint rules
 * (errors refuse, warnings pass). Throws SpecRefusedError whose message names each field and the fix. A tune's
 * trial is checked against the schema only: a lint error ("mem-fraction-static 0.95 … OOMs under load") is what the
 * trial is deployed to measure, as it would be on Modal, where deploy does not lint.
 */
export function checkDeploySpec(input: unknown, options: { isTrial?: boolean } = {}): Spec {
  const parsed = Spec.safeParse(input);
  if (!parsed.success) throw new SpecRefusedError(`deploy refused, spec is invalid:\n${z.prettifyError(parsed.error)}`);
  if (options.isTrial) return parsed.data;
  const errors = lintSpec(parsed.data).filter((finding) => finding.level === 'error');
  if (errors.length > 0) {
    const lines = errors.map((f) => `✖ ${formatFinding(f)}`);
    throw new SpecRefusedError(`deploy refused, spec fails lint:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
