import { randomUUID } from 'node:crypto';
import type { ChoiceLogprobs, UsageCounts } from './chat-chunks';
import type { ChatOutputParser } from './chat-output-parser';
import type { ChatRequest } from './chat-request';
import type { ModelToken } from './completion-plan';
import { type EmulatedVocab, utf8Bytes } from './emulated-vocab';
import type { FinishReason } from './output-limits';
import type { TimingReport } from './request-runner';
import type { WireProfile } from './wire-profile';

/** One choice being generated: its id, output, parser and what it has produced. */
export interface ChoiceRun {
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

/** What a reply writer words its reply from: the request, its choices, and the wire format of the release. */
export interface ChatReply {
  request: ChatRequest;
  choices: ChoiceRun[];
  vocab: EmulatedVocab;
  promptTokens: number;
  wire: WireProfile;
  /** Whether the body carries `emulator_timing` (the emulator's own field, off unless configured). */
  shouldReportTiming: boolean;
}

/** How a chat reply is written as its choices generate: SSE chunks as they come, or one JSON body at the end. */
export interface ChatReplyWriter {
  /** One decode step of one choice, when it is due. */
  step(choice: ChoiceRun, tokens: ModelToken[]): void;
  /** A choice delivered its last token; `timing` is its plan (the first one completed is reported). */
  completed(choice: ChoiceRun, timing: TimingReport): void;
  /** Every choice completed: the closing chunks, or the body. */
  end(): void;
}

/** The per-token logprobs of one step (EOS has none), continuing the choice's position in the emulated vocab. */
export function stepLogprobs(
  vocab: EmulatedVocab,
  tokens: ModelToken[],
  choice: ChoiceRun,
  top: number,
): ChoiceLogprobs {
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

/** Token counts of a reply over all its choices. */
export function usageCounts(choices: ChoiceRun[], promptTokens: number): UsageCounts {
  return {
    promptTokens,
    completionTokens: choices.reduce((sum, c) => sum + c.tokens.length, 0),
    reasoningTokens: choices.reduce((sum, c) => sum + c.reasoningTokens, 0),
  };
}

/** A stop that produced tool calls is reported as `tool_calls`, as SGLang does. */
export function finishReasonOf(choice: ChoiceRun): string {
  if (choice.finish.type === 'stop' && choice.parser.toolCalls.length > 0) return 'tool_calls';
  return choice.finish.type;
}

/** `call_` + 24 hex characters, as SGLang names tool calls for every parser but Kimi's. */
export function toolCallId(): string {
  return `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}
