import type { ServerResponse } from 'node:http';
import { acceptRequest } from './accept-request';
import { sseEvent } from './chat-chunks';
import type { Engine } from './engine';
import { planPlainGeneration } from './plain-generation';
import { newRequestId, nowSeconds, sendJson, startEventStream } from './http-reply';
import { isPlainObject, lax, missing, validatedOf, type Coerced, type Validated } from './lax-pydantic';
import { openAiError, type PydanticError } from './openai-error';
import { presenceOf, runGeneration } from './request-runner';
import { checkGenerationLength, emulatedModel, type ParsedBody } from './serving-context';

/** The fields of `POST /v1/completions` the emulator acts on. */
interface CompletionRequest {
  prompt: string;
  model: string;
  maxTokens: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  ignoreEos: boolean;
  script?: string;
}

/**
 * `POST /v1/completions` (recorded): `text_completion` chunks without a role chunk, each with `usage: null`; the
 * finish chunk has empty text; the usage chunk has no `prompt_tokens_details`. No reasoning or tool parsing runs.
 */
export async function handleCompletion(
  engine: Engine,
  res: ServerResponse,
  body: ParsedBody,
  arrivalMs: number,
): Promise<void> {
  const request = acceptRequest(engine, res, body, 'completions', validateCompletionRequest);
  if (!request) return;
  const model = emulatedModel(engine);
  // The prompt plus the two BOS tokens GLM's tokenizer prepends ([gMASK]<sop>).
  const promptTokens = Math.max(1, Math.ceil(request.prompt.length / 4)) + 2;
  const lengthError = checkGenerationLength(
    model.contextLength,
    engine.maxTotalNumTokens,
    promptTokens,
    request.maxTokens,
  );
  if (lengthError) return sendJson(res, 400, openAiError(400, lengthError));
  const { tokens, finish } = planPlainGeneration(engine, model, {
    prompt: request.prompt,
    promptTokens,
    maxNewTokens: request.maxTokens,
    stop: request.stop,
    ignoreEos: request.ignoreEos,
    ...(request.script !== undefined ? { script: request.script } : {}),
  });
  const id = newRequestId();
  const head = () => ({ id, object: 'text_completion', created: nowSeconds(), model: request.model });
  const choice = (text: string, finishReason: string | null, matched: number | string | null) => ({
    index: 0,
    text,
    logprobs: null,
    finish_reason: finishReason,
    matched_stop: matched,
  });
  const matched = finish.type === 'stop' ? finish.matched : null;
  const client = presenceOf(res);
  const job = { tokens, promptTokens, seedText: request.prompt, isStreaming: request.stream };
  if (request.stream) {
    startEventStream(res);
    const result = await runGeneration(engine, job, arrivalMs, client, (step) => {
      const text = step.map((t) => t.text).join('');
      if (text !== '') res.write(sseEvent({ ...head(), choices: [choice(text, null, null)], usage: null }));
    });
    if (!result.completed) return void res.destroy();
    res.write(sseEvent({ ...head(), choices: [choice('', finish.type, matched)], usage: null }));
    if (request.includeUsage) {
      const usage = {
        prompt_tokens: promptTokens,
        total_tokens: promptTokens + tokens.length,
        completion_tokens: tokens.length,
        reasoning_tokens: 0,
      };
      res.write(sseEvent({ ...head(), choices: [], usage }));
    }
    res.end('data: [DONE]\n\n');
    return;
  }
  const result = await runGeneration(engine, job, arrivalMs, client, () => undefined);
  if (!result.completed) return void res.destroy();
  sendJson(res, 200, {
    ...head(),
    choices: [choice(tokens.map((t) => t.text).join(''), finish.type, matched)],
    usage: {
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + tokens.length,
      completion_tokens: tokens.length,
      prompt_tokens_details: null,
      reasoning_tokens: 0,
    },
    metadata: { weight_version: 'default' },
  });
}

function validateCompletionRequest(body: unknown): Validated<CompletionRequest> {
  if (!isPlainObject(body)) return { ok: false, errors: [missing(['body'], body ?? null)] };
  const errors: PydanticError[] = [];
  const take = <T>(result: Coerced<T>, fallback: T): T => {
    if (result.ok) return result.value;
    errors.push(result.error);
    return fallback;
  };
  let prompt = '';
  if (body.prompt === undefined) errors.push(missing(['body', 'prompt'], body));
  else if (typeof body.prompt === 'string') prompt = body.prompt;
  else if (Array.isArray(body.prompt))
    prompt = body.prompt.map((p) => (typeof p === 'string' ? p : String(p))).join(' ');
  else take(lax.str(body.prompt, ['body', 'prompt']), '');
  const model = body.model === undefined ? 'default' : take(lax.str(body.model, ['body', 'model']), 'default');
  const maxTokens = body.max_tokens === undefined ? 16 : take(lax.int(body.max_tokens, ['body', 'max_tokens']), 16);
  const stream = body.stream === undefined ? false : take(lax.bool(body.stream, ['body', 'stream']), false);
  const ignoreEos = body.ignore_eos === true;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop.map(String) : [];
  const options = isPlainObject(body.stream_options) ? body.stream_options : {};
  const params = isPlainObject(body.custom_params) ? body.custom_params : {};
  const script = isPlainObject(params.emulator_script) ? params.emulator_script.content : undefined;
  return validatedOf(errors, {
    prompt,
    model,
    maxTokens,
    stop,
    stream,
    includeUsage: options.include_usage === true,
    ignoreEos,
    script: typeof script === 'string' ? script : undefined,
  });
}
