import type { Finding, LintContext } from './finding';
import { lintSpecReport, type LintReport } from './lint';
import { loadSpecFile, parseSpecText, type ParseResult, type SpecIssue } from './parse-spec';
import type { Spec } from './schema';
import { flagTableForImage, type FlagTableChoice } from './sglang-version';

/** Which SGLang flag table a spec was checked against, and why that one. */
export interface FlagTableUsed {
  /** The table's release. */
  version: string;
  /** The release the image tag names, when it names one. */
  imageVersion?: string;
  choice: FlagTableChoice;
  note: string;
}

/** Parse issues and lint findings of one spec: what `spec check` and the rollout's validate step report. */
export interface CheckResult {
  spec?: Spec;
  findings: Finding[];
  errors: SpecIssue[];
  /** Warnings the spec acknowledged under `lint.acknowledge`. */
  acknowledged: LintReport['acknowledged'];
  /** The SGLang flag table `sglang.args` was checked against (absent when the spec did not parse). */
  flagTable?: FlagTableUsed;
}

/** The flag table a spec's image selects, for reports. */
export function flagTableUsed(spec: Spec): FlagTableUsed {
  const resolved = flagTableForImage(spec.sglang.image);
  return {
    version: resolved.table.version,
    ...(resolved.imageVersion !== undefined ? { imageVersion: resolved.imageVersion } : {}),
    choice: resolved.choice,
    note: resolved.note,
  };
}

/** `spec check` exit status: 0 clean, 1 warnings only, 2 parse errors or error findings. */
export function checkExitCode(result: Pick<CheckResult, 'findings' | 'errors'>): 0 | 1 | 2 {
  if (result.errors.length > 0 || result.findings.some((finding) => finding.level === 'error')) return 2;
  return result.findings.length > 0 ? 1 : 0;
}

function fromParse(parsed: ParseResult, context: LintContext): CheckResult {
  if (!parsed.ok) return { findings: [], errors: parsed.errors, acknowledged: [] };
  const report = lintSpecReport(parsed.spec, context);
  return {
    spec: parsed.spec,
    findings: report.findings,
    errors: [],
    acknowledged: report.acknowledged,
    flagTable: flagTableUsed(parsed.spec),
  };
}

/** Parses spec YAML and lints it in one call. */
export function checkSpecText(text: string, options: { fileName?: string; context?: LintContext } = {}): CheckResult {
  return fromParse(parseSpecText(text, { fileName: options.fileName }), options.context ?? {});
}

/** Loads a spec file (size cap, binary detection) and lints it. */
export async function checkSpecFile(file: string, options: { context?: LintContext } = {}): Promise<CheckResult> {
  return fromParse(await loadSpecFile(file), options.context ?? {});
}
