import { RESERVED_ARG_KEYS } from '../arg-safety';
import { findingOf, type Finding, type LintRule } from '../finding';
import { renderedSpecFlags } from '../rendered-spec-flags';

/** The argparse dests of the flags glm-ops sets itself (RESERVED_ARG_KEYS), whatever the spelling. */
const RESERVED_DESTS: Readonly<Record<string, string>> = {
  model_path: 'model-path',
  served_model_name: 'served-model-name',
  host: 'host',
  port: 'port',
  api_key: 'api-key',
};

/**
 * Another spelling of a flag glm-ops sets itself: `model` is SGLang's alias of `--model-path`, `served-model` a prefix
 * of `--served-model-name`. The exact names are refused when the spec is parsed (RESERVED_ARG_KEYS).
 */
export const sglangFlagReserved: LintRule = {
  id: 'sglang-flag-reserved',
  summary: 'an alias or prefix of a flag glm-ops sets itself (model path, served name, host, port, API key)',
  reason:
    "SGLang's own flag table for the image's release: aliases and abbreviations reach the same argparse dest as the flags glm-ops renders",
  check(spec) {
    const { table, flags } = renderedSpecFlags(spec);
    const findings: Finding[] = [];
    for (const { key, resolved } of flags) {
      if (RESERVED_ARG_KEYS[key] !== undefined) continue;
      const reserved = resolved.kind === 'flag' ? RESERVED_DESTS[resolved.flag.dest] : undefined;
      if (reserved === undefined) continue;
      findings.push(
        findingOf(this, {
          level: 'error',
          path: `sglang.args.${key}`,
          message: `"${key}" is SGLang ${table.version}'s ${resolved.kind === 'flag' && resolved.how === 'abbreviation' ? 'abbreviation' : 'alias'} of --${reserved}, which glm-ops sets itself: ${RESERVED_ARG_KEYS[reserved] ?? ''}`,
          fix: `remove ${key} from sglang.args`,
        }),
      );
    }
    return findings;
  },
};
