import * as fs from 'node:fs';
import * as path from 'node:path';

/** What SGLang reads from the model folder that shows on the wire (`/model_info`, context-length checks, EOS). */
export interface ModelConfig {
  architectures: string[] | null;
  modelType: string | null;
  /** The model's context length (`max_model_len`, the 400 "maximum context length of N tokens"). */
  contextLength: number;
  /** Token ids that end generation; `matched_stop` reports the one hit. */
  eosTokenIds: number[];
  vocabSize: number;
}

/** GLM-5.1's values, for model folders whose config.json leaves them out (the emulator's small fixtures). */
const GLM51_CONTEXT_LENGTH = 202752;
const GLM51_VOCAB_SIZE = 154880;
const GLM51_EOS_IDS = [154820, 154827, 154829];

/**
 * Reads `config.json` (and `tokenizer_config.json` for the length) the way SGLang's ModelConfig does for the
 * fields above: `--context-length` wins, then `max_position_embeddings`, then the tokenizer's `model_max_length`.
 */
export function readModelConfig(modelPath: string, contextLengthArg?: number | null): ModelConfig {
  const config = readJson(path.join(modelPath, 'config.json'));
  const tokenizerConfig = readJson(path.join(modelPath, 'tokenizer_config.json'));
  const eos = config.eos_token_id;
  const eosTokenIds = Array.isArray(eos)
    ? eos.filter((id): id is number => typeof id === 'number')
    : typeof eos === 'number'
      ? [eos]
      : GLM51_EOS_IDS;
  return {
    architectures: Array.isArray(config.architectures) ? config.architectures.map(String) : null,
    modelType: typeof config.model_type === 'string' ? config.model_type : null,
    contextLength:
      contextLengthArg ??
      positive(config.max_position_embeddings) ??
      positive(tokenizerConfig.model_max_length) ??
      GLM51_CONTEXT_LENGTH,
    eosTokenIds: eosTokenIds.length > 0 ? eosTokenIds : GLM51_EOS_IDS,
    vocabSize: positive(config.vocab_size) ?? GLM51_VOCAB_SIZE,
  };
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e9 ? value : undefined;
}

function readJson(file: string): Record<string, unknown> {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
