import type { ChatMessage, ChatRequest, ChatTool } from './chat-request';
import { SeededRandom } from './seeded-random';

/** Where a generated token lands in the response. */
export type TokenChannel = 'reasoning' | 'content' | 'tool';

/** One generated token: its text and, for tool-call tokens, which call it belongs to. */
export interface PlannedToken {
  channel: TokenChannel;
  text: string;
  toolIndex?: number;
}

/** A parsed tool call, as `tool_calls[i]` reports it. */
export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** The whole deterministic output of one request, decided before the first token is sent. */
export interface CompletionPlan {
  tokens: PlannedToken[];
  toolCalls: PlannedToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  promptTokens: number;
  /** Which CUDA graph the request needs; the first request of each shape pays the capture. */
  shapeKey: string;
}

/** Engine features that change what the output looks like (the guide's misconfiguration symptoms). */
export interface OutputFeatures {
  hasToolCallParser: boolean;
  hasReasoningParser: boolean;
  isGarbled: boolean;
  seed: number;
  naturalLength: { min: number; max: number };
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

/** Whether the request thinks: the template default is on, `chat_template_kwargs.enable_thinking: false` turns it off. */
export function isThinkingRequested(request: ChatRequest): boolean {
  const kwargs = request.chat_template_kwargs ?? {};
  if (kwargs.enable_thinking === false || kwargs.thinking === false) return false;
  return true;
}

/** Decides the full output of a request from a PRNG seeded on its content, so equal requests get equal text. */
export function planCompletion(request: ChatRequest, features: OutputFeatures): CompletionPlan {
  const promptTokens = countPromptTokens(request);
  const thinking = isThinkingRequested(request);
  const rng = SeededRandom.fromText(
    JSON.stringify([request.messages, request.tools ?? null, thinking, request.tool_choice ?? null]),
    features.seed,
  );
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const naturalLength = rng.int(features.naturalLength.min, features.naturalLength.max);
  const chosenTool = chooseTool(request, rng);
  const hasTools = (request.tools?.length ?? 0) > 0;
  const shapeKey = `${thinking ? 'think' : 'nothink'}|${hasTools ? 'tools' : 'chat'}|${promptTokens > 4096 ? 'long' : 'short'}`;

  const tokens: PlannedToken[] = [];
  if (thinking) {
    const count = Math.max(2, Math.round(naturalLength * 0.35));
    const words = Array.from({ length: count }, (_, i) => (i === 0 ? '' : ' ') + rng.pick(THOUGHTS));
    if (!features.hasReasoningParser) {
      // Without a parser the raw <think> block reaches the client as ordinary content (guide §18).
      words[0] = '<think>' + words[0];
      words[words.length - 1] += '</think>';
    }
    for (const text of words) tokens.push({ channel: features.hasReasoningParser ? 'reasoning' : 'content', text });
  }
  const toolCalls: PlannedToolCall[] = [];
  if (chosenTool) {
    const args = sampleArguments(chosenTool.function.parameters, rng);
    const argsJson = JSON.stringify(args);
    if (features.hasToolCallParser) {
      toolCalls.push({
        id: `call_${rng.int(0, 0xffffff).toString(16).padStart(6, '0')}`,
        name: chosenTool.function.name,
        arguments: argsJson,
      });
      for (const piece of splitText(argsJson, 6)) tokens.push({ channel: 'tool', text: piece, toolIndex: 0 });
    } else {
      // GLM-4.7's native tool format, left unparsed: clients see text, not tool_calls (guide §18).
      let raw = `<tool_call>${chosenTool.function.name}\n`;
      for (const [key, value] of Object.entries(args)) {
        raw += `<arg_key>${key}</arg_key>\n<arg_value>${typeof value === 'string' ? value : JSON.stringify(value)}</arg_value>\n`;
      }
      raw += '</tool_call>';
      for (const piece of splitText(raw, 5)) tokens.push({ channel: 'content', text: piece });
    }
  } else {
    const contentCount = Math.max(1, naturalLength - tokens.length);
    for (let i = 0; i < contentCount; i++) {
      const word = rng.pick(WORDS);
      tokens.push({
        channel: 'content',
        text: (i === 0 ? capitalize(word) : ' ' + word) + (i === contentCount - 1 ? '.' : ''),
      });
    }
  }
  if (features.isGarbled) {
    for (const token of tokens) if (token.channel !== 'tool') token.text = rng.pick(GARBAGE);
  }

  const ignoreEos = request.ignore_eos === true && maxTokens !== undefined;
  if (ignoreEos) {
    while (tokens.length < maxTokens) {
      tokens.push({ channel: 'content', text: features.isGarbled ? rng.pick(GARBAGE) : ' ' + rng.pick(WORDS) });
    }
  }
  let finishReason: CompletionPlan['finishReason'] = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  if (maxTokens !== undefined && tokens.length > maxTokens) {
    tokens.length = maxTokens;
    finishReason = 'length';
    if (toolCalls.length > 0) {
      // A tool call cut mid-arguments is no call at all.
      toolCalls.length = 0;
      for (let i = 0; i < tokens.length; i++)
        if (tokens[i]?.channel === 'tool') tokens[i] = { channel: 'content', text: tokens[i]!.text };
    }
  } else if (ignoreEos) {
    finishReason = 'length';
  }
  return { tokens, toolCalls, finishReason, promptTokens, shapeKey };
}

function chooseTool(request: ChatRequest, rng: SeededRandom): ChatTool | undefined {
  const tools = request.tools ?? [];
  const choice = request.tool_choice ?? 'auto';
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object') return tools.find((t) => t.function.name === choice.function.name);
  const last = request.messages[request.messages.length - 1];
  // After a tool result the model answers in prose, as a real agent loop expects.
  if (choice === 'auto' && last?.role === 'tool') return undefined;
  const lastText = last ? messageText(last).toLowerCase() : '';
  return tools.find((t) => lastText.includes(t.function.name.toLowerCase())) ?? rng.pick(tools);
}

function sampleArguments(schema: Record<string, unknown> | undefined, rng: SeededRandom): Record<string, unknown> {
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
  if (Array.isArray(message.content)) return message.content.map((p) => p.text ?? '').join(' ');
  return '';
}

function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
