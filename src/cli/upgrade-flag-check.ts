import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { checkSpecText } from '../spec/check-spec';
import { describeSpecFlagChange, isBreaking, specFlagChanges, type SpecFlagChange } from '../spec/flag-renames';
import { fixSpecFlags } from '../spec/fix-spec-flags';
import type { Spec } from '../spec/schema';
import { flagTableForImage } from '../spec/sglang-version';

/** What `upgrade` does after comparing the spec's flags with the new release's table. */
export type FlagCheckOutcome = { action: 'continue' } | { action: 'stop'; exitCode: 0 | 2 };

/** Where `--fix` writes by default: next to the spec, named after the new release (`spec.sglang-0.5.23.yaml`). */
export function fixedSpecPath(specFile: string, version: string): string {
  const parsed = path.parse(specFile);
  return path.join(parsed.dir, `${parsed.name}.sglang-${version}${parsed.ext || '.yaml'}`);
}

const LABEL: Record<SpecFlagChange['kind'], string> = {
  renamed: 'renamed',
  removed: 'removed',
  deprecated: 'deprecated',
  'value-deprecated': 'value',
  'value-removed': 'value',
};

/**
 * Compares the spec's `sglang.args` with the flag table of the image the upgrade moves to, before anything starts:
 * prints every flag the new release renamed, removed or deprecated, refuses (exit 2) while the spec still uses a
 * spelling the new release rejects at start-up, and with `--fix` writes the spec moved to the new spellings instead
 * (comments kept) without starting the upgrade.
 */
export async function checkUpgradeFlags(
  specFile: string,
  spec: Spec,
  newImage: string,
  fix: string | boolean | undefined,
): Promise<FlagCheckOutcome> {
  const from = flagTableForImage(spec.sglang.image);
  const to = flagTableForImage(newImage);
  const changes = specFlagChanges(spec.sglang.args, from.table, to.table);
  const isVersionless = to.choice === 'no-version';
  console.log(
    `SGLang flags of ${spec.app}: ${from.table.version} → ${to.table.version}${to.choice === 'exact' ? '' : ` (${to.note})`}`,
  );
  if (changes.length === 0) console.log('  every flag of the spec keeps its spelling');
  for (const change of changes) console.log(`  ${LABEL[change.kind].padEnd(10)} ${describeSpecFlagChange(change)}`);
  const breaking = changes.filter(isBreaking);

  if (fix !== undefined && fix !== false) {
    const fixed = fixSpecFlags(await fs.readFile(specFile, 'utf8'), newImage, changes);
    const check = checkSpecText(fixed.text, { fileName: specFile });
    const target = typeof fix === 'string' ? fix : fixedSpecPath(specFile, to.imageVersion ?? to.table.version);
    if (target === '-') process.stdout.write(fixed.text);
    else await fs.writeFile(target, fixed.text);
    for (const line of fixed.applied) console.log(`  fixed      ${line}`);
    const where = target === '-' ? 'printed the fixed spec' : `wrote ${target}`;
    const remaining = check.errors.length + check.findings.filter((f) => f.level === 'error').length;
    if (remaining > 0 || fixed.left.some(isBreaking)) {
      console.error(
        `glm-ops: ${where}, but it still has ${remaining} error(s) for SGLang ${to.table.version}: check it with \`glm-ops spec check\` and edit what no rename can fix`,
      );
      return { action: 'stop', exitCode: 2 };
    }
    console.log(
      `${where} (no upgrade started): review it, then \`glm-ops upgrade ${target === '-' ? '<fixed spec>' : target} --sglang-image ${newImage}\``,
    );
    return { action: 'stop', exitCode: 0 };
  }

  if (breaking.length === 0) return { action: 'continue' };
  if (isVersionless) {
    // Which release the tag is cannot be known; the plan's lint (newest table) still stops a spec that cannot start.
    console.log(`  (not refusing: ${newImage} names no version, so these are checked against the newest table only)`);
    return { action: 'continue' };
  }
  console.error(
    `glm-ops: refusing to upgrade: SGLang ${to.table.version} rejects ${breaking.length} flag spelling(s) of ${specFile} at start-up (${breaking.map((c) => c.key).join(', ')}); rename them in the spec, or run with --fix to write ${fixedSpecPath(specFile, to.imageVersion ?? to.table.version)}`,
  );
  return { action: 'stop', exitCode: 2 };
}
