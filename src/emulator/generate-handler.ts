import type { ServerResponse } from 'node:http';
import { sseEvent } from './chat-chunks';
import type { ModelToken } from './completion-plan';
import { EmulatedVocab } from './emulated-vocab';
import type { Engine } from './engine';
import { planPlainGeneration } from './plain-generation';
import { newRequestId, sendJson, startEventStream } from './http-reply';
import { isPlainObject } from './lax-pydantic';
import { requestValidationError } from './openai-error';
import type { FinishReason } from './output-limits';
import { presenceOf, runGeneration } from './request-runner';
import { checkGenerationLength, emulatedModel, endpointContext, type ParsedBody } from './serving-context';

/** SamplingParams' default `max_new_tokens`. */
const DEFAULT_MAX_NEW_TOKENS = 128;

/** The fields of SGLang's `GenerateReqInput` the emulator acts on. */
interface GenerateRequest {
  promptText: string;
  promptTokens: number;
  maxNewTokens: number;
  stop: string[];
  ignoreEos: boolean;
  stream: boolean;
  returnLogprob: boolean;
  topLogprobsNum: number;
  script?: string;
}

/**
 * `POST|PUT /generate`, SGLang's native API (recorded; `bench_serving --backend sglang` drives it): `text` or
 * `input_ids` plus `sampling_params`; the reply is `{text, output_ids, meta_info}`, and a stream sends the
 * cumulative text and ids in every event, then `data: [DONE]`. Errors are `{"error": {"message"}}`.
 */
export async function handleGenerate(
  engine: Engine,
  res: ServerResponse,
  body: ParsedBody,
  arrivalMs: number,
): Promise<void> {
  if (!body.ok) return sendJson(res, 400, requestValidationError([body.error], endpointContext(engine, 'generate')));
  const parsed = parseGenerateRequest(body.value);
  if (typeof parsed === 'string') return sendJson(res, 400, { error: { message: parsed } });
  const request = parsed;
  const model = emulatedModel(engine);
  const lengthError = checkGenerationLength(
    model.contextLength,
    engine.maxTotalNumTokens,
    request.promptTokens,
    request.maxNewTokens,
  );
  if (lengthError) return sendJson(res, 400, { error: { message: lengthError } });
  const { tokens, finish } = planPlainGeneration(engine, model, {
    prompt: request.promptText,
    promptTokens: request.promptTokens,
    maxNewTokens: request.maxNewTokens,
    stop: request.stop,
    ignoreEos: request.ignoreEos,
    ...(request.script !== undefined ? { script: request.script } : {}),
  });
  const vocab = new EmulatedVocab(model.vocabSize, model.eosTokenIds);
  const ids = tokens.map((t) => vocab.idOf(t.text, t.kind === 'eos'));
  const rid = newRequestId();
  const receivedTs = Date.now() / 1000;
  const client = presenceOf(res);
  const job = { tokens, promptTokens: request.promptTokens, seedText: request.promptText, isStreaming: request.stream };
  let delivered = 0;
  let firstStepTs = receivedTs;
  const meta = (count: number, isFinal: boolean): Record<string, unknown> => ({
    id: rid,
    finish_reason: isFinal ? finishBody(finish) : null,
    prompt_tokens: request.promptTokens,
    weight_version: 'default',
    num_retractions: 0,
    forward_entry_time: receivedTs,
    prefill_finished_time: firstStepTs,
    queue_time: 0,
    ...(request.returnLogprob ? logprobFields(vocab, tokens.slice(0, count), ids, request.topLogprobsNum) : {}),
    reasoning_tokens: 0,
    completion_tokens: count,
    cached_tokens: 0,
    cached_tokens_details: { device: 0, host: 0 },
    dp_rank: null,
  });
  const timestamps = (finishedTs: number, isStream: boolean): Record<string, number> => {
    const e2e = finishedTs - receivedTs;
    const sent = { response_sent_to_client_ts: Date.now() / 1000 };
    // The final stream event stamps the send before the finish; the single reply stamps it last (recorded).
    return {
      e2e_latency: e2e,
      request_received_ts: receivedTs,
      api_server_dispatch_finish_ts: receivedTs,
      ...(isStream ? sent : {}),
      request_finished_ts: finishedTs,
      decode_throughput: e2e > 0 ? tokens.length / e2e : 0,
      ...(isStream ? {} : sent),
    };
  };
  const textOf = (count: number) =>
    tokens
      .slice(0, count)
      .map((t) => t.text)
      .join('');
  if (request.stream) {
    startEventStream(res);
    const result = await runGeneration(engine, job, arrivalMs, client, (step, stepIndex) => {
      delivered += step.length;
      if (stepIndex === 0) firstStepTs = Date.now() / 1000;
      const isFinal = delivered >= tokens.length;
      const info = meta(delivered, isFinal);
      if (isFinal) Object.assign(info, timestamps(Date.now() / 1000, true));
      else if (stepIndex === 0) info.response_sent_to_client_ts = Date.now() / 1000;
      res.write(sseEvent({ text: textOf(delivered), output_ids: ids.slice(0, delivered), meta_info: info }));
    });
    if (!result.completed) return void res.destroy();
    res.end('data: [DONE]\n\n');
    return;
  }
  const result = await runGeneration(engine, job, arrivalMs, client, (_step, stepIndex) => {
    if (stepIndex === 0) firstStepTs = Date.now() / 1000;
  });
  if (!result.completed) return void res.destroy();
  sendJson(res, 200, {
    text: textOf(tokens.length),
    output_ids: ids,
    meta_info: { ...meta(tokens.length, true), ...timestamps(Date.now() / 1000, false) },
  });
}

function finishBody(finish: FinishReason): Record<string, unknown> {
  return finish.type === 'stop' ? { type: 'stop', matched: finish.matched } : { type: 'length', length: finish.length };
}

/** `return_logprob`: `[logprob, token_id, null]` triples (no text unless `return_text_in_logprobs`). */
function logprobFields(
  vocab: EmulatedVocab,
  tokens: ModelToken[],
  ids: number[],
  top: number,
): Record<string, unknown> {
  const output = tokens.map((token, i) => vocab.logprobs(token.text, i, Math.max(1, top)));
  return {
    input_token_logprobs: [],
    output_token_logprobs: output.map((lp, i) => [lp.logprob, ids[i], null]),
    output_token_logprobs_length: output.length,
    input_top_logprobs: [],
    output_top_logprobs: output.map((lp, i) =>
      top > 0 ? lp.alternatives.map(([text, value], k) => [value, k === 0 ? ids[i] : vocab.idOf(text), null]) : [],
    ),
  };
}

function parseGenerateRequest(body: unknown): GenerateRequest | string {
  if (!isPlainObject(body)) return 'Either text, input_ids or input_embeds should be provided.';
  const params = isPlainObject(body.sampling_params) ? body.sampling_params : {};
  let promptText: string;
  let promptTokens: number;
  if (typeof body.text === 'string') {
    promptText = body.text;
    // GLM's tokenizer prepends [gMASK]<sop>.
    promptTokens = Math.max(1, Math.ceil(body.text.length / 4)) + 2;
  } else if (Array.isArray(body.input_ids) && body.input_ids.every((id) => Number.isInteger(id))) {
    promptText = body.input_ids.join(',');
    promptTokens = body.input_ids.length;
  } else {
    return 'Either text, input_ids or input_embeds should be provided.';
  }
  const maxNew = params.max_new_tokens;
  const maxNewTokens = typeof maxNew === 'number' && Number.isInteger(maxNew) ? maxNew : DEFAULT_MAX_NEW_TOKENS;
  if (maxNewTokens < 0) return `max_new_tokens must be at least 0, got ${maxNewTokens}.`;
  const stop =
    typeof params.stop === 'string' ? [params.stop] : Array.isArray(params.stop) ? params.stop.map(String) : [];
  const custom = isPlainObject(params.custom_params) ? params.custom_params : {};
  const script = isPlainObject(custom.emulator_script) ? custom.emulator_script.content : undefined;
  return {
    promptText,
    promptTokens,
    maxNewTokens,
    stop,
    ignoreEos: params.ignore_eos === true,
    stream: body.stream === true,
    returnLogprob: body.return_logprob === true,
    topLogprobsNum: typeof body.top_logprobs_num === 'number' ? body.top_logprobs_num : 0,
    script: typeof script === 'string' ? script : undefined,
  };
}
