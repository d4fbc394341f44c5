import type { ModelToken } from './completion-plan';

/** What SGLang's parsers make of the raw output, one piece at a time (the stream's deltas). */
export type OutputEvent =
  | { type: 'reasoning'; text: string }
  | { type: 'content'; text: string }
  | { type: 'tool-start'; toolIndex: number; name: string }
  | { type: 'tool-args'; toolIndex: number; text: string };

/** Which of SGLang's parsers apply to a request. */
export interface OutputParsing {
  /** `--reasoning-parser` set and the request's `separate_reasoning` true. */
  separatesReasoning: boolean;
  /** The template opened `<think>` for the model (thinking on): output counts as reasoning until `</think>`. */
  forcesReasoning: boolean;
  /** `stream_reasoning`: reasoning deltas as they come; false holds it until `</think>`. */
  streamsReasoning: boolean;
  /** `--tool-call-parser` set, the request has tools and `tool_choice` is not "none". */
  parsesToolCalls: boolean;
}

/** A parsed tool call of the whole output. */
export interface ParsedToolCall {
  name: string;
  /** JSON text as SGLang writes it (`json.dumps` separators). */
  arguments: string;
}

/**
 * The glm45 reasoning parser and the glm47 tool-call detector, as they behave on GLM's output format: fed token by
 * token, they yield the pieces SGLang streams, and keep the totals a non-streaming reply reports. Tags are whole
 * tokens in the emulated output, so the parsers work on token kinds instead of re-scanning text.
 */
export class ChatOutputParser {
  private isInReasoning: boolean;
  private isReasoningDone = false;
  private heldReasoning = '';
  private reasoningTotal = '';
  private contentTotal = '';
  private readonly calls: ParsedToolCall[] = [];
  private call: { name: string; isNameSent: boolean; keyCount: number; key: string; isString: boolean } | undefined;
  /** The argument JSON of the call being parsed, and its last piece (a string value opens after `": "`). */
  private pendingArgs = '';
  private lastArgPiece = '';

  constructor(private readonly parsing: OutputParsing) {
    this.isInReasoning = parsing.separatesReasoning && parsing.forcesReasoning;
  }

  /** The events one generated token produces. */
  feed(token: ModelToken): OutputEvent[] {
    if (token.kind === 'eos') return [];
    if (this.parsing.separatesReasoning) {
      if (token.kind === 'think-open' && !this.isReasoningDone && !this.isInReasoning) {
        this.isInReasoning = true;
        this.heldReasoning += token.text;
        return [];
      }
      if (this.isInReasoning) {
        if (token.kind === 'think-open') {
          // The opening tag the template already implied: streamed away, but kept in a held (non-streamed) block.
          this.heldReasoning += token.text;
          return [];
        }
        if (token.kind === 'think-close') {
          this.isInReasoning = false;
          this.isReasoningDone = true;
          return this.releaseHeldReasoning();
        }
        this.reasoningTotal += token.text;
        if (this.parsing.streamsReasoning) return [{ type: 'reasoning', text: token.text }];
        this.heldReasoning += token.text;
        return [];
      }
    }
    if (!this.parsing.parsesToolCalls) return this.emitContent(token.text);
    return this.toolToken(token);
  }

  /** What the end of generation flushes: reasoning held back by `stream_reasoning: false` that never closed. */
  end(): OutputEvent[] {
    return this.isInReasoning ? this.releaseHeldReasoning() : [];
  }

  /** `message.reasoning_content` of a non-streaming reply (null when empty). */
  get reasoning(): string | null {
    return this.reasoningTotal === '' ? null : this.reasoningTotal;
  }

  /** `message.content` of a non-streaming reply ("" when empty, as SGLang writes it). */
  get contentText(): string {
    return this.contentTotal;
  }

  /** Tool calls parsed so far (complete ones). */
  get toolCalls(): ParsedToolCall[] {
    return this.calls;
  }

  private releaseHeldReasoning(): OutputEvent[] {
    const text = this.heldReasoning;
    this.heldReasoning = '';
    if (this.parsing.streamsReasoning) return [];
    // SGLang hands the held block over with the `<think>` it saw at the start still in it.
    return text === '' || text === '<think>' ? [] : [{ type: 'reasoning', text }];
  }

  private toolToken(token: ModelToken): OutputEvent[] {
    const index = this.calls.length;
    switch (token.kind) {
      case 'tool-open':
        this.call = { name: '', isNameSent: false, keyCount: 0, key: '', isString: true };
        return [];
      case 'tool-name':
        if (this.call) this.call.name += token.text;
        return this.call ? [] : this.emitContent(token.text);
      case 'arg-key-open':
        if (!this.call) return this.emitContent(token.text);
        this.call.key = '';
        return this.sendName(index);
      case 'arg-key':
        if (this.call) this.call.key += token.text;
        return this.call ? [] : this.emitContent(token.text);
      case 'arg-key-close':
        if (!this.call) return this.emitContent(token.text);
        return this.args(index, this.call.keyCount++ === 0 ? '{' : ', ');
      case 'arg-value-open':
        if (!this.call) return this.emitContent(token.text);
        this.call.isString = token.isStringArg !== false;
        return this.args(index, `${JSON.stringify(this.call.key)}: `);
      case 'arg-value': {
        if (!this.call) return this.emitContent(token.text);
        return this.args(index, this.call.isString ? quotedPiece(token.text, this.isFirstValuePiece()) : token.text);
      }
      case 'arg-value-close':
        if (!this.call) return this.emitContent(token.text);
        return this.call.isString ? this.args(index, this.isFirstValuePiece() ? '""' : '"') : [];
      case 'tool-close': {
        if (!this.call) return this.emitContent(token.text);
        const events = [...this.sendName(index), ...this.args(index, this.call.keyCount === 0 ? '{}' : '}')];
        this.calls.push({ name: this.call.name, arguments: this.pendingArgs });
        this.pendingArgs = '';
        this.call = undefined;
        return events;
      }
      default:
        return this.emitContent(token.text);
    }
  }

  private emitContent(text: string): OutputEvent[] {
    if (text === '') return [];
    this.contentTotal += text;
    return [{ type: 'content', text }];
  }

  private isFirstValuePiece(): boolean {
    return this.lastArgPiece.endsWith(': ');
  }

  private sendName(index: number): OutputEvent[] {
    if (!this.call || this.call.isNameSent) return [];
    this.call.isNameSent = true;
    return [{ type: 'tool-start', toolIndex: index, name: this.call.name }];
  }

  private args(index: number, text: string): OutputEvent[] {
    this.pendingArgs += text;
    this.lastArgPiece = text;
    return [{ type: 'tool-args', toolIndex: index, text }];
  }
}

/** A piece of a string argument inside JSON quotes: the first opens the quote; escapes as json.dumps writes them. */
function quotedPiece(text: string, isFirst: boolean): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return isFirst ? `"${escaped}` : escaped;
}
