import { performance } from 'node:perf_hooks';
import type { ServerResponse } from 'node:http';
import {
  chatUsage,
  fastChunk,
  sseEvent,
  toolPathChunk,
  usageChunk,
  type ChoiceLogprobs,
  type ChunkHead,
} from './chat-chunks';
import {
  type ChatReply,
  type ChatReplyWriter,
  type ChoiceRun,
  finishReasonOf,
  stepLogprobs,
  toolCallId,
  usageCounts,
} from './chat-choice';
import type { OutputEvent, OutputParsing } from './chat-output-parser';
import type { ModelToken } from './completion-plan';
import { nowSeconds, startEventStream } from './http-reply';
import { timingBody, type TimingReport } from './request-runner';

/**
 * A streamed chat reply, in the exact chunk shapes of SGLang's two streaming paths: the role chunk when a choice
 * starts, each step's reasoning, content or tool-call pieces as they are parsed, then one closing chunk per choice
 * in the order they finished, the usage chunk when asked for, and `[DONE]`.
 */
export class ChatStreamWriter implements ChatReplyWriter {
  private readonly finished: ChoiceRun[] = [];
  // SGLang stamps the closing chunks with the id of the last output it received (the last choice to move).
  private lastId: string;
  private report: TimingReport | undefined;
  /**
   * When the first chunk carrying output (reasoning, content or a tool call) went out. bench_serving's TTFT ends
   * there, one decode step after SGLang's own first token when that token is a tag the parsers swallow (`<think>`).
   */
  private firstOutputMs: number | undefined;

  /** Sends the event-stream headers; the chunks follow as the choices generate. */
  constructor(
    private readonly res: ServerResponse,
    private readonly reply: ChatReply & { parsing: OutputParsing },
  ) {
    this.lastId = reply.choices[0]?.id ?? '';
    startEventStream(res);
  }

  step(choice: ChoiceRun, tokens: ModelToken[]): void {
    const { request, vocab, parsing } = this.reply;
    this.lastId = choice.id;
    if (!choice.isStarted) {
      choice.isStarted = true;
      this.res.write(sseEvent(fastChunk(this.head(choice.id), choice.index, { role: 'assistant', content: '' })));
    }
    const isLast = choice.position + tokens.length >= choice.tokens.length;
    const logprobs = request.logprobs ? stepLogprobs(vocab, tokens, choice, request.top_logprobs ?? 0) : null;
    choice.position += tokens.length;
    const events = tokens.flatMap((t) => choice.parser.feed(t));
    if (isLast) events.push(...choice.parser.end());
    for (const chunk of stepChunks(this.head(choice.id), choice, events, parsing, logprobs)) {
      this.res.write(sseEvent(chunk));
    }
    if (this.firstOutputMs === undefined && events.some(carriesOutput)) this.firstOutputMs = performance.now();
  }

  completed(choice: ChoiceRun, timing: TimingReport): void {
    this.finished.push(choice);
    this.report ??= timing;
  }

  end(): void {
    const { request, choices, promptTokens, wire, shouldReportTiming } = this.reply;
    for (const choice of this.finished) {
      const extras =
        shouldReportTiming && this.report
          ? { emulator_timing: { ...timingBody(this.report), ...firstOutputTiming(this.firstOutputMs) } }
          : {};
      this.res.write(
        sseEvent({
          ...fastChunk(this.head(this.lastId), choice.index, {
            finishReason: finishReasonOf(choice),
            matchedStop: choice.finish.type === 'stop' ? choice.finish.matched : null,
          }),
          ...extras,
        }),
      );
    }
    if (request.stream_options?.include_usage) {
      this.res.write(sseEvent(usageChunk(this.head(this.lastId), chatUsage(usageCounts(choices, promptTokens), wire))));
    }
    this.res.end('data: [DONE]\n\n');
  }

  private head(id: string): ChunkHead {
    return { id, created: nowSeconds(), model: this.reply.request.model };
  }
}

/** Whether a parser event puts text into a chunk's delta (a tool call's start carries its name). */
function carriesOutput(event: OutputEvent): boolean {
  return event.type === 'tool-start' || event.text !== '';
}

/** The first output write as an epoch stamp, for a client's TTFT to be compared with (absent without output). */
function firstOutputTiming(firstOutputMs: number | undefined): Record<string, number> {
  return firstOutputMs === undefined ? {} : { first_output_epoch_ms: performance.timeOrigin + firstOutputMs };
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
