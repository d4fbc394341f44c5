import { peakFigures, type BenchRun } from '../loadgen';

/**
 * One run as the JSON line bench_serving writes (`--output-file`): glm-ops' summary plus the keys bench_serving has
 * and glm-ops does not compute, so a script reading bench_serving's lines reads these. Token counts come from the
 * server's usage and are never re-tokenised: `total_output_tokens_retokenized` is null, the text/vision split is
 * all text.
 */
export function benchServingJson(run: BenchRun): Record<string, unknown> {
  const { summary } = run;
  return {
    tag: null,
    ...summary,
    random_input_len: summary.random_input_len ?? null,
    random_output_len: summary.random_output_len ?? null,
    random_range_ratio: summary.random_range_ratio ?? null,
    sharegpt_output_len: null,
    server_info: null,
    total_input_text_tokens: summary.total_input_tokens,
    total_input_vision_tokens: 0,
    total_output_tokens_retokenized: null,
    ...peakFigures(run.records),
  };
}
