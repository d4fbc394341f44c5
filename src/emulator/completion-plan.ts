import type { ChatMessage, ChatRequest, ChatTool } from './chat-request';
import { isPlainObject } from './lax-pydantic';
import { pyJsonDumps } from './python-repr';
import { SeededRandom } from '../random/seeded-random';

/**
 * What one generated token is in GLM-5.1's output format. The emulated model writes GLM's raw text
 * (`<think>…</think>` then the answer, tool calls as `<tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value>
 * </tool_call>`); SGLang's reasoning and tool-call parsers (chat-output-parser.ts) turn it into response fields.
 */
export type TokenKind =
  | 'think-open'
  | 'reasoning'
  | 'think-close'
  | 'content'
  | 'tool-open'
  | 'tool-name'
  | 'arg-key-open'
  | 'arg-key'
  | 'arg-key-close'
  | 'arg-value-open'
  | 'arg-value'
  | 'arg-value-close'
  | 'tool-close'
  | 'eos';

/** One generated token: its text and its place in GLM's format; argument tokens carry their JSON value. */
export interface ModelToken {
  kind: TokenKind;
  text: string;
  /** On the last `arg-value` token of an argument: the value as JSON (strings stay strings). */
  argValue?: unknown;
  /** On `arg-value-open`: whether the tool's schema declares the argument a string (the parser quotes those). */
  isStringArg?: boolean;
}

/** Engine features that change what the model writes (the guide's misconfiguration symptoms). */
export interface OutputFeatures {
  /** FP8 KV cache on Blackwell without the trtllm decode backend: garbled text (guide §18). */
  isGarbled: boolean;
  seed: number;
  naturalLength: { min: number; max: number };
}

/**
 * A scripted output (`custom_params.emulator_script`): the emulator's stand-in for the forcing logit processor the
 * reference recordings used, so a test can ask for the exact reasoning / content / tool calls a real GLM wrote.
 * Real SGLang ignores `custom_params` without `--enable-custom-logit-processor` and a processor.
 */
export interface EmulatorScript {
  reasoning?: string | null;
  /** false: `</think>` never comes (the budget runs out mid-thought). */
  reasoningClosed: boolean;
  content?: string;
  toolCalls: Array<{ name: string; arguments: Record<string, unknown> }>;
}

const WORDS = [
  'the',
  'model',
  'serves',
  'tokens',
  'quickly',
  'and',
  'every',
  'request',
  'gets',
  'a',
  'clear',
  'answer',
  'about',
  'deployment',
  'health',
  'weights',
  'volume',
  'kernels',
  'cache',
  'latency',
  'throughput',
  'batch',
  'decode',
  'prefill',
  'graph',
  'replica',
  'scales',
  'under',
  'load',
  'while',
  'keeping',
  'first',
  'token',
  'time',
  'low',
  'so',
  'users',
  'see',
  'steady',
  'streams',
  'of',
  'text',
  'from',
  'eight',
  'GPUs',
  'with',
  'speculative',
  'drafts',
  'verified',
  'in',
  'one',
  'step',
  'which',
  'is',
  'why',
  'output',
  'feels',
  'fast',
  'here',
  'results',
  'look',
  'good',
];
const THOUGHTS = [
  'let',
  'me',
  'think',
  'about',
  'this',
  'carefully',
  'first',
  'the',
  'user',
  'asks',
  'for',
  'something',
  'simple',
  'I',
  'should',
  'check',
  'what',
  'they',
  'need',
  'then',
  'answer',
  'briefly',
  'and',
  'accurately',
  'consider',
  'edge',
  'cases',
  'before',
  'writing',
  'reply',
];
const GARBAGE = ['ĠĠ', '<|endoftext|>', '\uFFFD', '的的', ')))', 'ĊĊ', '##', 'Ġthe the', '..', 'ÃÂ'];

/** Approximate token count of a request's prompt (4 characters per token, plus per-message overhead). */
export function countPromptTokens(request: ChatRequest): number {
  let chars = 0;
  for (const message of request.messages) chars += messageText(message).length + 16;
  if (request.tools) chars += JSON.stringify(request.tools).length;
  return Math.max(1, Math.ceil(chars / 4));
}

/** Whether the request thinks: GLM's template default is on, `chat_template_kwargs.enable_thinking: false` turns it off. */
export function isThinkingRequested(request: ChatRequest): boolean {
  const kwargs = request.chat_template_kwargs ?? {};
  return !(kwargs.enable_thinking === false || kwargs.thinking === false);
}

/** The script of a request, when it carries one. */
export function readScript(request: ChatRequest): EmulatorScript | undefined {
  const raw = request.custom_params?.emulator_script;
  if (!isPlainObject(raw)) return undefined;
  const calls = Array.isArray(raw.tool_calls) ? raw.tool_calls.filter(isPlainObject) : [];
  return {
    reasoning: typeof raw.reasoning === 'string' ? raw.reasoning : null,
    reasoningClosed: raw.reasoning_closed !== false,
    content: typeof raw.content === 'string' ? raw.content : undefined,
    toolCalls: calls.map((c) => ({
      name: String(c.name ?? ''),
      arguments: isPlainObject(c.arguments) ? c.arguments : {},
    })),
  };
}

/**
 * Decides the raw output of one choice from a PRNG seeded on the request (equal requests get equal text; choice
 * `i > 0` of a sampled request gets its own seed, as sampling would), ending with the EOS token. With `ignore_eos`
 * the model writes on to `tokenLimit` without EOS.
 */
export function planModelOutput(
  request: ChatRequest,
  features: OutputFeatures,
  choiceIndex = 0,
  tokenLimit?: number,
): ModelToken[] {
  const thinking = isThinkingRequested(request);
  const isSampled = request.temperature === null || request.temperature > 0;
  const seedText = JSON.stringify([request.messages, request.tools, thinking, request.tool_choice]);
  const rng = SeededRandom.fromText(seedText, features.seed + (isSampled ? choiceIndex * 7919 : 0));
  const script = readScript(request);
  const tokens = script ? scriptedTokens(script, request.tools ?? []) : sampledTokens(request, rng, thinking, features);
  if (features.isGarbled) {
    for (const token of tokens)
      if (token.kind === 'reasoning' || token.kind === 'content') token.text = rng.pick(GARBAGE);
  }
  if (request.ignore_eos) {
    const limit = tokenLimit ?? tokens.length;
    while (tokens.length < limit) {
      tokens.push({ kind: 'content', text: features.isGarbled ? rng.pick(GARBAGE) : ' ' + rng.pick(WORDS) });
    }
    return tokens;
  }
  tokens.push({ kind: 'eos', text: '' });
  return tokens;
}

function sampledTokens(
  request: ChatRequest,
  rng: SeededRandom,
  thinking: boolean,
  features: OutputFeatures,
): ModelToken[] {
  const naturalLength = rng.int(features.naturalLength.min, features.naturalLength.max);
  const tokens: ModelToken[] = [];
  if (thinking) {
    tokens.push({ kind: 'think-open', text: '<think>' });
    const count = Math.max(2, Math.round(naturalLength * 0.35));
    for (let i = 0; i < count; i++) tokens.push({ kind: 'reasoning', text: (i === 0 ? '' : ' ') + rng.pick(THOUGHTS) });
    tokens.push({ kind: 'think-close', text: '</think>' });
  }
  const tool = chooseTool(request, rng);
  if (tool) {
    tokens.push(...toolCallTokens(tool.function.name, sampleArguments(tool.function.parameters, rng), tool));
    return tokens;
  }
  const contentCount = Math.max(1, naturalLength - tokens.length);
  for (let i = 0; i < contentCount; i++) {
    const word = rng.pick(WORDS);
    const text = (i === 0 ? capitalize(word) : ' ' + word) + (i === contentCount - 1 ? '.' : '');
    tokens.push({ kind: 'content', text });
  }
  return tokens;
}

function scriptedTokens(script: EmulatorScript, tools: ChatTool[]): ModelToken[] {
  const tokens: ModelToken[] = [];
  if (script.reasoning !== null && script.reasoning !== undefined) {
    tokens.push({ kind: 'think-open', text: '<think>' });
    for (const piece of splitIntoTokens(script.reasoning)) tokens.push({ kind: 'reasoning', text: piece });
    if (script.reasoningClosed) tokens.push({ kind: 'think-close', text: '</think>' });
  }
  for (const piece of splitIntoTokens(script.content ?? '')) tokens.push({ kind: 'content', text: piece });
  for (const call of script.toolCalls) {
    tokens.push(
      ...toolCallTokens(
        call.name,
        call.arguments,
        tools.find((t) => t.function.name === call.name),
      ),
    );
  }
  return tokens;
}

/** GLM-4.7's native tool-call text, one token per tag and per short piece of name, key and value. */
function toolCallTokens(name: string, args: Record<string, unknown>, tool: ChatTool | undefined): ModelToken[] {
  const tokens: ModelToken[] = [{ kind: 'tool-open', text: '<tool_call>' }];
  for (const piece of splitIntoTokens(name)) tokens.push({ kind: 'tool-name', text: piece });
  const properties = (tool?.function.parameters?.properties ?? {}) as Record<string, { type?: unknown }>;
  for (const [key, value] of Object.entries(args)) {
    tokens.push({ kind: 'arg-key-open', text: '<arg_key>' });
    for (const piece of splitIntoTokens(key)) tokens.push({ kind: 'arg-key', text: piece });
    tokens.push({ kind: 'arg-key-close', text: '</arg_key>' });
    const declared = properties[key]?.type;
    const isStringArg = declared === undefined ? typeof value === 'string' : declared === 'string';
    tokens.push({ kind: 'arg-value-open', text: '<arg_value>', isStringArg });
    const raw = typeof value === 'string' ? value : pyJsonDumps(value);
    const pieces = splitIntoTokens(raw);
    pieces.forEach((piece, i) =>
      tokens.push({ kind: 'arg-value', text: piece, ...(i === pieces.length - 1 ? { argValue: value } : {}) }),
    );
    tokens.push({ kind: 'arg-value-close', text: '</arg_value>' });
  }
  tokens.push({ kind: 'tool-close', text: '</tool_call>' });
  return tokens;
}

/** Splits text into word-sized pieces (a leading space stays with its word; long words split), like a BPE would. */
export function splitIntoTokens(text: string): string[] {
  const pieces: string[] = [];
  for (const word of text.match(/\s*\S+|\s+/g) ?? []) {
    for (let i = 0; i < word.length; i += 7) pieces.push(word.slice(i, i + 7));
  }
  return pieces;
}

function chooseTool(request: ChatRequest, rng: SeededRandom): ChatTool | undefined {
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object') return tools.find((t) => t.function.name === choice.function.name);
  const last = request.messages[request.messages.length - 1];
  // After a tool result the model answers in prose, as a real agent loop expects.
  if (choice === 'auto' && last?.role === 'tool') return undefined;
  const lastText = last ? messageText(last).toLowerCase() : '';
  return tools.find((t) => lastText.includes(t.function.name.toLowerCase())) ?? rng.pick(tools);
}

function sampleArguments(
  schema: Record<string, unknown> | null | undefined,
  rng: SeededRandom,
): Record<string, unknown> {
  const properties = (schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const result: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(properties)) result[key] = sampleValue(key, prop, rng);
  return result;
}

function sampleValue(key: string, prop: Record<string, unknown>, rng: SeededRandom): unknown {
  if (Array.isArray(prop.enum) && prop.enum.length > 0) return rng.pick(prop.enum);
  switch (prop.type) {
    case 'integer':
      return rng.int(1, 100);
    case 'number':
      return Math.round(rng.next() * 10000) / 100;
    case 'boolean':
      return rng.next() < 0.5;
    case 'array':
      return [];
    case 'object':
      return sampleArguments(prop, rng);
    default:
      return key.toLowerCase().includes('city') || key.toLowerCase().includes('location')
        ? rng.pick(['Paris', 'Berlin', 'Tokyo', 'San Francisco'])
        : `${rng.pick(WORDS)} ${rng.pick(WORDS)}`;
  }
}

function messageText(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content;
  if (Array.isArray(message.content))
    return message.content.map((p) => (typeof p.text === 'string' ? p.text : '')).join(' ');
  return '';
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * The raw output for a prompt without a chat template (`/v1/completions`, `/generate`): prose continued from the
 * prompt, then EOS. `scriptedText` (the request's `custom_params.emulator_script.content`) replaces the prose.
 */
export function planPlainOutput(
  seedText: string,
  features: OutputFeatures,
  options: { scriptedText?: string; ignoreEos: boolean; tokenLimit: number },
): ModelToken[] {
  const rng = SeededRandom.fromText(seedText, features.seed);
  const tokens: ModelToken[] = [];
  if (options.scriptedText !== undefined) {
    for (const piece of splitIntoTokens(options.scriptedText)) tokens.push({ kind: 'content', text: piece });
  } else {
    const count = rng.int(features.naturalLength.min, features.naturalLength.max);
    for (let i = 0; i < count; i++) tokens.push({ kind: 'content', text: ' ' + rng.pick(WORDS) });
  }
  if (features.isGarbled) for (const token of tokens) token.text = rng.pick(GARBAGE);
  if (options.ignoreEos) {
    while (tokens.length < options.tokenLimit) tokens.push({ kind: 'content', text: ' ' + rng.pick(WORDS) });
    return tokens;
  }
  tokens.push({ kind: 'eos', text: '' });
  return tokens;
}
