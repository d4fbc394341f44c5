import type { Engine } from './engine';

/** One finished generation request, as the handlers know it. */
export interface FinishedRequestFacts {
  promptTokens: number;
  generationTokens: number;
  /** Prompt tokens served from the prefix cache. @default 0 */
  cachedTokens?: number;
  ttftS: number;
  e2eS: number;
  queueS: number;
  isStreaming: boolean;
}

/** Records a finished chat, completion or `/generate` request in SGLang's request-level series. */
export function recordFinished(engine: Engine, facts: FinishedRequestFacts): void {
  engine.metrics.observeFinished({
    isStreaming: facts.isStreaming,
    promptTokens: facts.promptTokens,
    cachedTokens: facts.cachedTokens ?? 0,
    completionTokens: facts.generationTokens,
    ttftS: facts.ttftS,
    e2eS: facts.e2eS,
    queueS: facts.queueS,
  });
}

/**
 * Records the gap before a step that delivered `tokens` tokens. SGLang counts inter-token latency per token (a
 * 4-token EAGLE step is 4 observations of gap / 4) and, as recorded, for streamed requests only.
 */
export function recordInterToken(engine: Engine, gapS: number, tokens: number, isStreaming: boolean): void {
  if (!isStreaming || tokens <= 0) return;
  engine.metrics.observeTokenGap(gapS, tokens);
}

/**
 * A request the client abandoned. SGLang 0.5.17 has no aborted-request family (its exposition shows none), so
 * nothing is counted: the request simply never reaches `num_requests_total`.
 */
export function recordAborted(_engine: Engine, _generatedTokens: number, _isStreaming: boolean): void {
  // Intentionally empty: see above.
}
