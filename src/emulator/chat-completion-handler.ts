import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  chatUsage,
  fastChunk,
  sseEvent,
  toolPathChunk,
  usageChunk,
  type ChoiceLogprobs,
  type ChunkHead,
} from './chat-chunks';
import { validateChatRequest, type ChatRequest } from './chat-request';
import { ChatOutputParser, type OutputEvent, type OutputParsing } from './chat-output-parser';
import { countPromptTokens, isThinkingRequested, planModelOutput, type ModelToken } from './completion-plan';
import { EmulatedVocab, utf8Bytes } from './emulated-vocab';
import type { Engine } from './engine';
import { newRequestId, nowSeconds, sendJson, startEventStream } from './http-reply';
import { openAiError, requestValidationError } from './openai-error';
import { applyOutputLimits, clampMaxNewTokens, type FinishReason } from './output-limits';
import { pyFloat } from './python-repr';
import { presenceOf, runGeneration, timingBody, type ClientPresence, type TimingReport } from './request-runner';
import {
  checkGenerationLength,
  emulatedModel,
  endpointContext,
  launchFacts,
  outputFeaturesOf,
  wireOf,
  type ParsedBody,
} from './serving-context';

export { sendJson } from './http-reply';

/** One choice being generated: its id, output, parser and what it has produced. */
interface ChoiceRun {
  index: number;
  id: string;
  tokens: ModelToken[];
  finish: FinishReason;
  parser: ChatOutputParser;
  reasoningTokens: number;
  /** Tool-call ids by tool index, made when the name is streamed. */
  toolCallIds: string[];
  isStarted: boolean;
  position: number;
}

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
  const context = endpointContext(engine, 'chat');
  if (!body.ok) return sendJson(res, 400, requestValidationError([body.error], context));
  const validated = validateChatRequest(body.value);
  if (!validated.ok) return sendJson(res, 400, requestValidationError(validated.errors, context));
  const request = validated.request;
  const servingError = checkServing(engine, request);
  if (servingError) return sendJson(res, 400, openAiError(400, servingError));
  const model = emulatedModel(engine);
  const promptTokens = countPromptTokens(request);
  const requested = request.max_completion_tokens ?? request.max_tokens;
  const lengthError = checkGenerationLength(model.contextLength, engine.args.maxTotalTokens, promptTokens, requested);
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
    maxTotalTokens: engine.args.maxTotalTokens,
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
  const vocab = new EmulatedVocab(model.vocabSize, model.eosTokenIds);
  if (request.stream) {
    startEventStream(res);
    await streamChoices(engine, res, request, choices, parsing, vocab, client, promptTokens, arrivalMs);
  } else {
    await answerChoices(engine, res, request, choices, vocab, client, promptTokens, arrivalMs);
  }
}

async function streamChoices(
  engine: Engine,
  res: ServerResponse,
  request: ChatRequest,
  choices: ChoiceRun[],
  parsing: OutputParsing,
  vocab: EmulatedVocab,
  client: ClientPresence,
  promptTokens: number,
  arrivalMs: number,
): Promise<void> {
  const finished: ChoiceRun[] = [];
  // SGLang stamps the closing chunks with the id of the last output it received (the last choice to move).
  let lastId = choices[0]?.id ?? '';
  let report: TimingReport | undefined;
  const head = (id: string): ChunkHead => ({ id, created: nowSeconds(), model: request.model });
  const results = await Promise.all(
    choices.map(async (choice) => {
      const result = await runGeneration(
        engine,
        { tokens: choice.tokens, promptTokens, seedText: JSON.stringify(request.messages), isStreaming: true },
        arrivalMs,
        client,
        (tokens) => {
          lastId = choice.id;
          if (!choice.isStarted) {
            choice.isStarted = true;
            res.write(sseEvent(fastChunk(head(choice.id), choice.index, { role: 'assistant', content: '' })));
          }
          const isLast = choice.position + tokens.length >= choice.tokens.length;
          const logprobs = request.logprobs ? stepLogprobs(vocab, tokens, choice, request.top_logprobs ?? 0) : null;
          choice.position += tokens.length;
          const events = tokens.flatMap((t) => choice.parser.feed(t));
          if (isLast) events.push(...choice.parser.end());
          for (const chunk of stepChunks(head(choice.id), choice, events, parsing, logprobs))
            res.write(sseEvent(chunk));
        },
      );
      if (result.completed) {
        finished.push(choice);
        report ??= result.timing;
      }
      return result.completed;
    }),
  );
  if (!results.every(Boolean)) {
    if (!res.destroyed) res.destroy();
    return;
  }
  for (const choice of finished) {
    const extras = engine.settings.config.reportTiming && report ? { emulator_timing: timingBody(report) } : {};
    res.write(
      sseEvent({
        ...fastChunk(head(lastId), choice.index, {
          finishReason: finishReasonOf(choice),
          matchedStop: choice.finish.type === 'stop' ? choice.finish.matched : null,
        }),
        ...extras,
      }),
    );
  }
  if (request.stream_options?.include_usage) {
    res.write(sseEvent(usageChunk(head(lastId), chatUsage(usageCounts(choices, promptTokens), wireOf(engine)))));
  }
  res.end('data: [DONE]\n\n');
}

async function answerChoices(
  engine: Engine,
  res: ServerResponse,
  request: ChatRequest,
  choices: ChoiceRun[],
  vocab: EmulatedVocab,
  client: ClientPresence,
  promptTokens: number,
  arrivalMs: number,
): Promise<void> {
  const logprobs = new Map<number, ChoiceLogprobs>();
  let report: TimingReport | undefined;
  const results = await Promise.all(
    choices.map(async (choice) => {
      const result = await runGeneration(
        engine,
        { tokens: choice.tokens, promptTokens, seedText: JSON.stringify(request.messages), isStreaming: false },
        arrivalMs,
        client,
        (tokens) => {
          if (request.logprobs) {
            const step = stepLogprobs(vocab, tokens, choice, request.top_logprobs ?? 0);
            const all = logprobs.get(choice.index) ?? { content: [] };
            all.content.push(...step.content);
            logprobs.set(choice.index, all);
          }
          choice.position += tokens.length;
          for (const token of tokens) choice.parser.feed(token);
        },
      );
      if (result.completed) report ??= result.timing;
      return result.completed;
    }),
  );
  if (!results.every(Boolean)) {
    if (!res.destroyed) res.destroy();
    return;
  }
  const body: Record<string, unknown> = {
    id: choices[0]?.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: request.model,
    choices: choices.map((choice) => {
      choice.parser.end();
      const calls = choice.parser.toolCalls;
      return {
        index: choice.index,
        message: {
          role: 'assistant',
          content: choice.parser.contentText,
          reasoning_content: choice.parser.reasoning,
          tool_calls:
            calls.length === 0
              ? null
              : calls.map((call) => ({
                  id: toolCallId(),
                  // SGLang 0.5.17's non-streaming glm47 path reports index 0 for every call (recorded).
                  index: 0,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
        },
        logprobs: request.logprobs ? (logprobs.get(choice.index) ?? { content: [] }) : null,
        finish_reason: finishReasonOf(choice),
        // Turning a stop into tool_calls also clears what it matched (serving_chat._process_tool_calls).
        matched_stop: choice.finish.type === 'stop' && calls.length === 0 ? choice.finish.matched : null,
      };
    }),
    usage: chatUsage(usageCounts(choices, promptTokens), wireOf(engine)),
    metadata: { weight_version: 'default' },
  };
  if (engine.settings.config.reportTiming && report) body.emulator_timing = timingBody(report);
  sendJson(res, 200, body);
}

/** The chunks one decode step produces: reasoning first, then content or tool-call pieces, as SGLang orders them. */
function stepChunks(
  head: ChunkHead,
  choice: ChoiceRun,
  events: OutputEvent[],
  parsing: OutputParsing,
  logprobs: ChoiceLogprobs | null,
): Array<Record<string, unknown>> {
  const chunks: Array<Record<string, unknown>> = [];
  let pendingLogprobs = logprobs;
  const takeLogprobs = (): ChoiceLogprobs | null => {
    const value = pendingLogprobs;
    pendingLogprobs = null;
    return value;
  };
  const reasoning = events.flatMap((e) => (e.type === 'reasoning' ? [e.text] : [])).join('');
  if (reasoning !== '') chunks.push(fastChunk(head, choice.index, { reasoning, logprobs: takeLogprobs() }));
  const content = events.flatMap((e) => (e.type === 'content' ? [e.text] : [])).join('');
  if (parsing.parsesToolCalls) {
    if (content !== '') chunks.push(toolPathChunk(head, choice.index, { content, logprobs: takeLogprobs() }));
    for (const call of mergeToolEvents(events)) {
      if (call.name !== null) choice.toolCallIds[call.index] = toolCallId();
      chunks.push(
        toolPathChunk(head, choice.index, {
          toolCall: {
            id: call.name !== null ? (choice.toolCallIds[call.index] ?? null) : null,
            index: call.index,
            name: call.name,
            arguments: call.arguments,
          },
          logprobs: takeLogprobs(),
        }),
      );
    }
  } else if (content !== '') {
    chunks.push(fastChunk(head, choice.index, { content, logprobs: takeLogprobs() }));
  }
  // Logprobs of a step that produced no text (a tag token) still go out, on an otherwise empty delta.
  const rest = takeLogprobs();
  if (rest && (parsing.separatesReasoning || parsing.parsesToolCalls)) {
    chunks.push(fastChunk(head, choice.index, { logprobs: rest }));
  }
  return chunks;
}

/** A step's tool events as SGLang's detector yields them: the name alone, then argument pieces per call. */
function mergeToolEvents(events: OutputEvent[]): Array<{ index: number; name: string | null; arguments: string }> {
  const calls: Array<{ index: number; name: string | null; arguments: string }> = [];
  for (const event of events) {
    if (event.type === 'tool-start') calls.push({ index: event.toolIndex, name: event.name, arguments: '' });
    else if (event.type === 'tool-args') {
      const last = calls[calls.length - 1];
      if (last && last.index === event.toolIndex && last.name === null) last.arguments += event.text;
      else calls.push({ index: event.toolIndex, name: null, arguments: event.text });
    }
  }
  return calls;
}

function stepLogprobs(vocab: EmulatedVocab, tokens: ModelToken[], choice: ChoiceRun, top: number): ChoiceLogprobs {
  const content = tokens
    .filter((t) => t.kind !== 'eos')
    .map((token, i) => {
      const { logprob, alternatives } = vocab.logprobs(token.text, choice.position + i, Math.max(0, top));
      return {
        token: token.text,
        bytes: utf8Bytes(token.text),
        logprob,
        top_logprobs: alternatives.map(([text, value]) => ({ token: text, bytes: utf8Bytes(text), logprob: value })),
      };
    });
  return { content };
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

function usageCounts(choices: ChoiceRun[], promptTokens: number) {
  return {
    promptTokens,
    completionTokens: choices.reduce((sum, c) => sum + c.tokens.length, 0),
    reasoningTokens: choices.reduce((sum, c) => sum + c.reasoningTokens, 0),
  };
}

function finishReasonOf(choice: ChoiceRun): string {
  if (choice.finish.type === 'stop' && choice.parser.toolCalls.length > 0) return 'tool_calls';
  return choice.finish.type;
}

/** `call_` + 24 hex characters, as SGLang names tool calls for every parser but Kimi's. */
function toolCallId(): string {
  return `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}
