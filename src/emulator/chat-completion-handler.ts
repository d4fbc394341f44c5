import type { ServerResponse } from 'node:http';
import { acceptRequest } from './accept-request';
import { type ChatReplyWriter, type ChoiceRun } from './chat-choice';
import { ChatJsonWriter } from './chat-json-writer';
import { validateChatRequest, type ChatRequest } from './chat-request';
import { ChatOutputParser, type OutputParsing } from './chat-output-parser';
import { ChatStreamWriter } from './chat-stream-writer';
import { countPromptTokens, isThinkingRequested, planModelOutput, type ModelToken } from './completion-plan';
import { EmulatedVocab } from './emulated-vocab';
import type { Engine } from './engine';
import { newRequestId, sendJson } from './http-reply';
import { openAiError } from './openai-error';
import { applyOutputLimits, clampMaxNewTokens } from './output-limits';
import { pyFloat } from './python-repr';
import { presenceOf, runGeneration } from './request-runner';
import {
  checkGenerationLength,
  emulatedModel,
  launchFacts,
  outputFeaturesOf,
  wireOf,
  type ParsedBody,
} from './serving-context';

export { sendJson } from './http-reply';

/**
 * `POST /v1/chat/completions` as SGLang 0.5.17 serves it (held to the reference recordings): pydantic validation
 * (400 `Bad Request`), the serving checks (400 `BadRequestError`), `n` choices each scheduled as its own request,
 * the glm45/glm47 parsers on GLM's raw output, and the exact chunk shapes of both of SGLang's streaming paths.
 */
export async function handleChatCompletion(
  engine: Engine,
  res: ServerResponse,
  body: ParsedBody,
  arrivalMs: number,
): Promise<void> {
  const request = acceptRequest(engine, res, body, 'chat', validateChatRequest);
  if (!request) return;
  const servingError = checkServing(engine, request);
  if (servingError) return sendJson(res, 400, openAiError(400, servingError));
  const model = emulatedModel(engine);
  const promptTokens = countPromptTokens(request);
  const requested = request.max_completion_tokens ?? request.max_tokens;
  const lengthError = checkGenerationLength(model.contextLength, engine.maxTotalNumTokens, promptTokens, requested);
  if (lengthError) return sendJson(res, 400, openAiError(400, lengthError));
  const samplingError = checkSampling(request);
  if (samplingError) return sendJson(res, 400, openAiError(400, samplingError));

  const injectedStatus = engine.admitChatRequest();
  if (engine.isGone) return void res.destroy();
  if (injectedStatus !== undefined) {
    engine.log.error(`[http_server] Error: injected fault: internal server error (request ${engine.chatRequestCount})`);
    return sendJson(
      res,
      injectedStatus,
      openAiError(injectedStatus, 'Internal server error: CUDA graph replay failed (injected fault)'),
    );
  }

  const maxNewTokens = clampMaxNewTokens(requested, promptTokens, {
    contextLength: model.contextLength,
    maxTotalTokens: engine.maxTotalNumTokens,
  });
  const parsing = parsingFor(engine, request);
  const baseId = newRequestId();
  const choices: ChoiceRun[] = Array.from({ length: request.n }, (_, index) => {
    const planned = planModelOutput(request, outputFeaturesOf(engine), index, maxNewTokens);
    const cut = applyOutputLimits(planned, {
      maxNewTokens,
      stop: request.stop,
      eosTokenId: model.eosTokenIds[0] ?? 0,
    });
    return {
      index,
      // n > 1 runs n requests whose ids share the parent's: `<rid>_<sub-rid>`.
      id: request.n > 1 ? `${baseId}_${newRequestId()}` : baseId,
      tokens: cut.tokens,
      finish: cut.finish,
      parser: new ChatOutputParser(parsing),
      reasoningTokens: countReasoningTokens(engine, request, cut.tokens),
      toolCallIds: [],
      isStarted: false,
      position: 0,
    };
  });
  const client = presenceOf(res);
  const reply = {
    request,
    choices,
    vocab: new EmulatedVocab(model.vocabSize, model.eosTokenIds),
    promptTokens,
    wire: wireOf(engine),
    shouldReportTiming: engine.settings.config.reportTiming,
  };
  const writer: ChatReplyWriter = request.stream
    ? new ChatStreamWriter(res, { ...reply, parsing })
    : new ChatJsonWriter(res, reply);
  const seedText = JSON.stringify(request.messages);
  const completed = await Promise.all(
    choices.map(async (choice) => {
      const job = { tokens: choice.tokens, promptTokens, seedText, isStreaming: request.stream };
      const result = await runGeneration(engine, job, arrivalMs, client, (tokens) => writer.step(choice, tokens));
      if (result.completed) writer.completed(choice, result.timing);
      return result.completed;
    }),
  );
  // A client that left, or an engine that went away, gets no ending: the connection just closes.
  if (!completed.every(Boolean)) {
    if (!res.destroyed) res.destroy();
    return;
  }
  writer.end();
}

/** Serving-level checks (`OpenAIServingChat._validate_request`), in SGLang's order. */
function checkServing(engine: Engine, request: ChatRequest): string | undefined {
  if (request.messages.length === 0) return 'Messages cannot be empty.';
  const tools = request.tools ?? [];
  if (request.tool_choice === 'required' && tools.length === 0) {
    return 'Tools cannot be empty if tool choice is set to required.';
  }
  if (typeof request.tool_choice === 'object') {
    if (tools.length === 0) return 'Tools cannot be empty if tool choice is set to a specific tool.';
    const name = request.tool_choice.function.name;
    if (!tools.some((t) => t.function.name === name)) return `Tool '${name}' not found in tools list.`;
  }
  const maxOutput = request.max_completion_tokens || request.max_tokens;
  const serverContext = launchFacts(engine).serverArgs.context_length;
  if (maxOutput && typeof serverContext === 'number' && maxOutput > serverContext) {
    return `max_completion_tokens is too large: ${maxOutput}.This model supports at most ${serverContext} completion tokens.`;
  }
  if (request.response_format?.type === 'json_schema' && !request.response_format.json_schema?.schema) {
    return 'schema_ is required for json_schema response format request.';
  }
  return undefined;
}

/** `SamplingParams.verify`, for the values a chat request can set. */
function checkSampling(request: ChatRequest): string | undefined {
  const temperature = request.temperature ?? 1;
  if (!Number.isFinite(temperature) || temperature < 0) {
    return `temperature must be a non-negative finite number, got ${pyFloat(temperature)}.`;
  }
  const topP = request.top_p ?? 1;
  if (!(topP > 0 && topP <= 1)) return `top_p must be in (0, 1], got ${pyFloat(topP)}.`;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== null && maxTokens < 0) return `max_new_tokens must be at least 0, got ${maxTokens}.`;
  return undefined;
}

function parsingFor(engine: Engine, request: ChatRequest): OutputParsing {
  return {
    separatesReasoning: Boolean(engine.args.reasoningParser) && request.separate_reasoning,
    forcesReasoning: isThinkingRequested(request),
    streamsReasoning: request.stream_reasoning,
    parsesToolCalls:
      Boolean(engine.args.toolCallParser) && (request.tools?.length ?? 0) > 0 && request.tool_choice !== 'none',
  };
}

/**
 * Reasoning tokens as the scheduler counts them: with a reasoning parser and thinking on, every token up to and
 * including `</think>` (all of them when it never comes); none with thinking off, even if the model thinks anyway.
 */
function countReasoningTokens(engine: Engine, request: ChatRequest, tokens: ModelToken[]): number {
  if (!engine.args.reasoningParser || !isThinkingRequested(request)) return 0;
  const close = tokens.findIndex((t) => t.kind === 'think-close');
  return close === -1 ? tokens.length : close + 1;
}
