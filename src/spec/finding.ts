import type { Spec } from './schema';

/** One lint result: a rule a spec breaks, where, why (guide section or upstream issue) and how to fix it. */
export interface Finding {
  /** The rule id, e.g. `fp8-kv-with-eagle`; `lint.acknowledge` keys refer to it. */
  rule: string;
  level: 'error' | 'warning';
  /** Field path, e.g. `sglang.args.kv-cache-dtype`. */
  path: string;
  /** What is wrong, naming the value. */
  message: string;
  /** The guide section or upstream issue the rule encodes. */
  reason: string;
  /** What to change. */
  fix: string;
}

/** Facts from outside the spec that some rules compare against. */
export interface LintContext {
  /** The DeepGEMM marker found in the kernels volume, when one exists. */
  kernelMarker?: { gpuType: string; sglangImage?: string };
  /** Volume read throughput for the weight-load estimate. @default 700 GB / 420 s (guide's slow end) */
  volumeThroughputGBps?: number;
}

/** A lint rule: one guide fact a spec can break. */
export interface LintRule {
  id: string;
  /** One line saying what the rule checks, for docs and `spec rules`. */
  summary: string;
  /** The guide section or upstream issue it encodes. */
  reason: string;
  check(spec: Spec, context: LintContext): Finding[];
}

/** Builds a finding for a rule, filling in its id and reason. */
export function findingOf(
  rule: Pick<LintRule, 'id' | 'reason'>,
  fields: { level: Finding['level']; path: string; message: string; fix: string; reason?: string },
): Finding {
  return {
    rule: rule.id,
    level: fields.level,
    path: fields.path,
    message: fields.message,
    reason: fields.reason ?? rule.reason,
    fix: fields.fix,
  };
}

/**
 * One finding on one line, the same in `spec check`, the CLI's refusals, SpecInvalid failures and rollout reports:
 * `path: message [rule] (why: reason; fix: fix)`. Callers add the level where the context does not give it.
 */
export function formatFinding(finding: Finding): string {
  return `${finding.path}: ${finding.message} [${finding.rule}] (why: ${finding.reason}; fix: ${finding.fix})`;
}
