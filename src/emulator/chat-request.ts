import { isPlainObject, lax, missing, validatedOf, type Coerced, type Validated } from './lax-pydantic';
import type { PydanticError } from './openai-error';
import { PyException } from './python-repr';

/** One content part of a message (`{type: 'text', text}` and the like). */
export interface ContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

/** One chat message as SGLang's `ChatCompletionMessageParam` union accepts it (role lower-cased). */
export interface ChatMessage {
  role: string;
  content: string | ContentPart[] | null;
  tool_calls?: unknown[] | null;
  tool_call_id?: string | null;
  name?: string | null;
}

/** A function tool declaration. */
export interface ChatTool {
  type: string;
  function: { name: string; description?: string | null; parameters?: Record<string, unknown> | null };
}

/** `tool_choice` after SGLang's `set_tool_choice_default` ("none" without tools, else "auto"). */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string | null } };

/** The fields of `POST /v1/chat/completions` the emulator acts on, with SGLang's defaults applied. */
export interface ChatRequest {
  messages: ChatMessage[];
  /** SGLang's default is the literal "default", and the response echoes whatever the request named. */
  model: string;
  max_tokens: number | null;
  max_completion_tokens: number | null;
  n: number;
  temperature: number | null;
  top_p: number | null;
  seed: number | null;
  stop: string[];
  stream: boolean;
  stream_options: { include_usage: boolean; continuous_usage_stats: boolean } | null;
  logprobs: boolean;
  top_logprobs: number | null;
  tools: ChatTool[] | null;
  tool_choice: ToolChoice;
  chat_template_kwargs: Record<string, unknown> | null;
  separate_reasoning: boolean;
  stream_reasoning: boolean;
  ignore_eos: boolean;
  response_format: { type: string; json_schema?: { name?: string; schema?: unknown } | null } | null;
  custom_params: Record<string, unknown> | null;
}

/** A validated request, or the pydantic errors SGLang's FastAPI layer would list for it. */
export type ChatRequestResult = Validated<ChatRequest>;

const GENERIC_ROLES = ['system', 'assistant', 'tool', 'function', 'developer', 'latest_reminder'];
const GENERIC_BRANCH = 'function-after[validate_thinking_parts_role(), ChatCompletionMessageGenericParam]';
const USER_BRANCH = 'function-after[validate_thinking_parts_role(), ChatCompletionMessageUserParam]';
const TOOL_CHOICE_LITERAL = "literal['auto','required','none']";

/**
 * Validates a chat body the way SGLang 0.5.17's `ChatCompletionRequest` does (pydantic v2, lax mode, errors for
 * every bad field at once). Written by hand rather than with zod because the point is pydantic's exact error
 * types, locations and messages, which clients and the recordings see. Unknown fields are ignored, as pydantic does.
 */
export function validateChatRequest(body: unknown): ChatRequestResult {
  const errors: PydanticError[] = [];
  if (body === undefined || body === null) return { ok: false, errors: [missing(['body'], null)] };
  if (!isPlainObject(body)) {
    return {
      ok: false,
      errors: [
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: body,
        },
      ],
    };
  }
  const take = <T>(result: Coerced<T>): T | undefined => {
    if (result.ok) return result.value;
    errors.push(result.error);
    return undefined;
  };
  const optional = <T>(key: string, coerce: (v: unknown, loc: Array<string | number>) => Coerced<T>) =>
    body[key] === undefined || body[key] === null ? null : (take(coerce(body[key], ['body', key])) ?? null);
  const withDefault = <T>(key: string, fallback: T, coerce: (v: unknown, loc: Array<string | number>) => Coerced<T>) =>
    body[key] === undefined ? fallback : (take(coerce(body[key], ['body', key])) ?? fallback);

  let messages: ChatMessage[] = [];
  if (body.messages === undefined) errors.push(missing(['body', 'messages'], body));
  else {
    const list = take(lax.list(body.messages, ['body', 'messages']));
    if (list) messages = list.map((item, i) => validateMessage(item, ['body', 'messages', i], errors));
  }
  const model = withDefault('model', 'default', lax.str);
  const maxTokens = optional('max_tokens', lax.int);
  const maxCompletionTokens = optional('max_completion_tokens', lax.int);
  const n = withDefault('n', 1, lax.int);
  const temperature = optional('temperature', lax.float);
  const topP = optional('top_p', lax.float);
  const seed = optional('seed', lax.int);
  const stop = validateStop(body.stop, errors);
  const stream = withDefault('stream', false, lax.bool);
  const streamOptions = validateStreamOptions(body.stream_options, errors);
  const logprobs = withDefault('logprobs', false, lax.bool);
  const topLogprobs = optional('top_logprobs', lax.int);
  const tools = validateTools(body.tools, errors);
  const toolChoice = validateToolChoice(body.tool_choice, tools, errors);
  const chatTemplateKwargs = optional('chat_template_kwargs', lax.dict);
  const separateReasoning = withDefault('separate_reasoning', true, lax.bool);
  const streamReasoning = withDefault('stream_reasoning', true, lax.bool);
  const ignoreEos = withDefault('ignore_eos', false, lax.bool);
  const responseFormat = validateResponseFormat(body.response_format, errors);
  const customParams = optional('custom_params', lax.dict);
  return validatedOf(errors, {
    messages,
    model,
    max_tokens: maxTokens,
    max_completion_tokens: maxCompletionTokens,
    n,
    temperature,
    top_p: topP,
    seed,
    stop,
    stream,
    stream_options: streamOptions,
    logprobs,
    top_logprobs: topLogprobs,
    tools,
    tool_choice: toolChoice,
    chat_template_kwargs: chatTemplateKwargs,
    separate_reasoning: separateReasoning,
    stream_reasoning: streamReasoning,
    ignore_eos: ignoreEos,
    response_format: responseFormat,
    custom_params: customParams,
  });
}

/** The union `ChatCompletionMessageGenericParam | ChatCompletionMessageUserParam`: errors of both branches. */
function validateMessage(item: unknown, loc: Array<string | number>, errors: PydanticError[]): ChatMessage {
  if (!isPlainObject(item)) {
    for (const branch of [GENERIC_BRANCH, USER_BRANCH]) {
      errors.push({
        type: 'model_attributes_type',
        loc: [...loc, branch],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: item,
      });
    }
    return { role: 'user', content: null };
  }
  const generic = genericBranchErrors(item, [...loc, GENERIC_BRANCH]);
  if (generic.length === 0) {
    return {
      role: String(item.role).toLowerCase(),
      content: (item.content ?? null) as ChatMessage['content'],
      tool_calls: (item.tool_calls ?? null) as unknown[] | null,
      tool_call_id: (item.tool_call_id ?? null) as string | null,
      name: (item.name ?? null) as string | null,
    };
  }
  const user = userBranchErrors(item, [...loc, USER_BRANCH]);
  if (user.length === 0) return { role: 'user', content: item.content as ChatMessage['content'] };
  errors.push(...generic, ...user);
  return { role: 'user', content: null };
}

function genericBranchErrors(item: Record<string, unknown>, loc: Array<string | number>): PydanticError[] {
  const errors: PydanticError[] = [];
  const role = item.role;
  if (role === undefined) errors.push(missing([...loc, 'role'], item));
  else if (typeof role !== 'string') errors.push(roleValueError(loc, role, "'role' must be a string"));
  else if (!GENERIC_ROLES.includes(role.toLowerCase())) {
    const allowed = GENERIC_ROLES.map((r) => `'${r}'`).join(', ');
    errors.push(roleValueError(loc, role, `'role' must be one of ${allowed} (case-insensitive).`));
  }
  if (item.content !== undefined && item.content !== null) errors.push(...contentErrors(item.content, loc));
  return errors;
}

function userBranchErrors(item: Record<string, unknown>, loc: Array<string | number>): PydanticError[] {
  const errors: PydanticError[] = [];
  if (item.role === undefined) errors.push(missing([...loc, 'role'], item));
  else if (item.role !== 'user') {
    errors.push({
      type: 'literal_error',
      loc: [...loc, 'role'],
      msg: "Input should be 'user'",
      input: item.role,
      ctx: { expected: "'user'" },
    });
  }
  if (item.content === undefined) errors.push(missing([...loc, 'content'], item));
  else errors.push(...contentErrors(item.content, loc));
  return errors;
}

function roleValueError(loc: Array<string | number>, input: unknown, message: string): PydanticError {
  return {
    type: 'value_error',
    loc: [...loc, 'role'],
    msg: `Value error, ${message}`,
    input,
    ctx: { error: new PyException('ValueError', message) },
  };
}

function contentErrors(content: unknown, loc: Array<string | number>): PydanticError[] {
  if (typeof content === 'string') return [];
  if (Array.isArray(content)) {
    return content.flatMap((part, i) =>
      isPlainObject(part) && typeof part.type === 'string'
        ? []
        : [
            {
              type: 'union_tag_invalid',
              loc: [...loc, 'content', 'list[...]', i],
              msg: 'Input tag does not match any of the expected content part types',
              input: part,
            },
          ],
    );
  }
  return [
    { type: 'string_type', loc: [...loc, 'content', 'str'], msg: 'Input should be a valid string', input: content },
    { type: 'list_type', loc: [...loc, 'content', 'list[...]'], msg: 'Input should be a valid list', input: content },
  ];
}

function validateStop(stop: unknown, errors: PydanticError[]): string[] {
  if (stop === undefined || stop === null) return [];
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop as string[];
  // Union[str, List[str]]: pydantic reports the str branch, then the list branch.
  errors.push({
    type: 'string_type',
    loc: ['body', 'stop', 'str'],
    msg: 'Input should be a valid string',
    input: stop,
  });
  if (!Array.isArray(stop)) {
    errors.push({
      type: 'list_type',
      loc: ['body', 'stop', 'list[str]'],
      msg: 'Input should be a valid list',
      input: stop,
    });
    return [];
  }
  stop.forEach((s, i) => {
    if (typeof s === 'string') return;
    errors.push({
      type: 'string_type',
      loc: ['body', 'stop', 'list[str]', i],
      msg: 'Input should be a valid string',
      input: s,
    });
  });
  return [];
}

function validateStreamOptions(value: unknown, errors: PydanticError[]): ChatRequest['stream_options'] {
  if (value === undefined || value === null) return null;
  const loc = ['body', 'stream_options'];
  const object = lax.model(value, loc);
  if (!object.ok) {
    errors.push(object.error);
    return null;
  }
  const flag = (key: string): boolean => {
    const raw = object.value[key];
    if (raw === undefined || raw === null) return false;
    const coerced = lax.bool(raw, [...loc, key]);
    if (!coerced.ok) errors.push(coerced.error);
    return coerced.ok ? coerced.value : false;
  };
  return { include_usage: flag('include_usage'), continuous_usage_stats: flag('continuous_usage_stats') };
}

function validateTools(value: unknown, errors: PydanticError[]): ChatTool[] | null {
  if (value === undefined || value === null) return null;
  const list = lax.list(value, ['body', 'tools']);
  if (!list.ok) {
    errors.push(list.error);
    return null;
  }
  const tools: ChatTool[] = [];
  list.value.forEach((item, i) => {
    const loc = ['body', 'tools', i];
    const tool = lax.model(item, loc);
    if (!tool.ok) return void errors.push(tool.error);
    const fn = tool.value.function;
    if (fn === undefined) return void errors.push(missing([...loc, 'function'], tool.value));
    const fnObject = lax.model(fn, [...loc, 'function']);
    if (!fnObject.ok) return void errors.push(fnObject.error);
    const name = fnObject.value.name;
    if (name === undefined) return void errors.push(missing([...loc, 'function', 'name'], fnObject.value));
    const nameText = lax.str(name, [...loc, 'function', 'name']);
    if (!nameText.ok) return void errors.push(nameText.error);
    const type = tool.value.type === undefined ? 'function' : lax.str(tool.value.type, [...loc, 'type']);
    if (typeof type !== 'string' && !type.ok) return void errors.push(type.error);
    tools.push({
      type: typeof type === 'string' ? type : type.value,
      function: {
        name: nameText.value,
        description: (fnObject.value.description ?? null) as string | null,
        parameters: (fnObject.value.parameters ?? null) as Record<string, unknown> | null,
      },
    });
  });
  return tools;
}

function validateToolChoice(value: unknown, tools: ChatTool[] | null, errors: PydanticError[]): ToolChoice {
  if (value === undefined || value === null) return tools === null ? 'none' : 'auto';
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  const loc = ['body', 'tool_choice'];
  if (isPlainObject(value)) {
    const fn = value.function;
    if (fn === undefined) errors.push(missing([...loc, 'ToolChoice', 'function'], value));
    else if (!isPlainObject(fn)) {
      errors.push({
        type: 'model_attributes_type',
        loc: [...loc, 'ToolChoice', 'function'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: fn,
      });
    } else return { type: 'function', function: { name: typeof fn.name === 'string' ? fn.name : null } };
  } else {
    errors.push({
      type: 'model_attributes_type',
      loc: [...loc, 'ToolChoice'],
      msg: 'Input should be a valid dictionary or object to extract fields from',
      input: value,
    });
  }
  errors.push({
    type: 'literal_error',
    loc: [...loc, TOOL_CHOICE_LITERAL],
    msg: "Input should be 'auto', 'required' or 'none'",
    input: value,
    ctx: { expected: "'auto', 'required' or 'none'" },
  });
  return 'auto';
}

function validateResponseFormat(value: unknown, errors: PydanticError[]): ChatRequest['response_format'] {
  if (value === undefined || value === null) return null;
  const object = lax.model(value, ['body', 'response_format']);
  if (!object.ok) {
    errors.push(object.error);
    return null;
  }
  const type = typeof object.value.type === 'string' ? object.value.type : 'text';
  let jsonSchema = isPlainObject(object.value.json_schema) ? { ...object.value.json_schema } : null;
  // SGLang's `set_json_schema` accepts a top-level `schema` and wraps it, naming it after its title.
  if (type === 'json_schema' && !jsonSchema && isPlainObject(object.value.schema)) {
    jsonSchema = { name: String(object.value.schema.title ?? 'Schema'), schema: object.value.schema };
  }
  return { type, json_schema: jsonSchema };
}
