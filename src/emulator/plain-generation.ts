import { planPlainOutput, type ModelToken } from './completion-plan';
import type { Engine } from './engine';
import type { ModelConfig } from './model-config';
import { applyOutputLimits, clampMaxNewTokens, type FinishReason } from './output-limits';
import { outputFeaturesOf } from './serving-context';

/** What a plain-text endpoint (`/v1/completions`, `/generate`) asks of the model. */
export interface PlainGenerationRequest {
  /** Seeds the model's output when no script is given. */
  prompt: string;
  promptTokens: number;
  maxNewTokens: number | null;
  stop: string[];
  ignoreEos: boolean;
  script?: string;
}

/**
 * The tokens a plain-text request gets, cut where SGLang's scheduler would end them: `max_new_tokens` clamped to the
 * context and the KV pool, then EOS, a stop string or the length. No reasoning or tool parsing runs.
 */
export function planPlainGeneration(
  engine: Engine,
  model: ModelConfig,
  request: PlainGenerationRequest,
): { tokens: ModelToken[]; finish: FinishReason } {
  const maxNewTokens = clampMaxNewTokens(request.maxNewTokens, request.promptTokens, {
    contextLength: model.contextLength,
    maxTotalTokens: engine.maxTotalNumTokens,
  });
  const planned = planPlainOutput(request.prompt, outputFeaturesOf(engine), {
    scriptedText: request.script,
    ignoreEos: request.ignoreEos,
    tokenLimit: maxNewTokens,
  });
  return applyOutputLimits(planned, { maxNewTokens, stop: request.stop, eosTokenId: model.eosTokenIds[0] ?? 0 });
}
