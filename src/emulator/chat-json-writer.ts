import type { ServerResponse } from 'node:http';
import { chatUsage, type ChoiceLogprobs } from './chat-chunks';
import {
  type ChatReply,
  type ChatReplyWriter,
  type ChoiceRun,
  finishReasonOf,
  stepLogprobs,
  toolCallId,
  usageCounts,
} from './chat-choice';
import type { ModelToken } from './completion-plan';
import { nowSeconds, sendJson } from './http-reply';
import { timingBody, type TimingReport } from './request-runner';

/**
 * A non-streamed chat reply: the parsers and logprobs follow the steps as they come, and one `chat.completion`
 * body goes out when every choice has finished, in SGLang's non-streaming shape (tool calls parsed at the end).
 */
export class ChatJsonWriter implements ChatReplyWriter {
  private readonly logprobs = new Map<number, ChoiceLogprobs>();
  private report: TimingReport | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly reply: ChatReply,
  ) {}

  step(choice: ChoiceRun, tokens: ModelToken[]): void {
    const { request, vocab } = this.reply;
    if (request.logprobs) {
      const step = stepLogprobs(vocab, tokens, choice, request.top_logprobs ?? 0);
      const all = this.logprobs.get(choice.index) ?? { content: [] };
      all.content.push(...step.content);
      this.logprobs.set(choice.index, all);
    }
    choice.position += tokens.length;
    for (const token of tokens) choice.parser.feed(token);
  }

  completed(_choice: ChoiceRun, timing: TimingReport): void {
    this.report ??= timing;
  }

  end(): void {
    const { request, choices, promptTokens, wire, shouldReportTiming } = this.reply;
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
          logprobs: request.logprobs ? (this.logprobs.get(choice.index) ?? { content: [] }) : null,
          finish_reason: finishReasonOf(choice),
          // Turning a stop into tool_calls also clears what it matched (serving_chat._process_tool_calls).
          matched_stop: choice.finish.type === 'stop' && calls.length === 0 ? choice.finish.matched : null,
        };
      }),
      usage: chatUsage(usageCounts(choices, promptTokens), wire),
      metadata: { weight_version: 'default' },
    };
    if (shouldReportTiming && this.report) body.emulator_timing = timingBody(this.report);
    sendJson(this.res, 200, body);
  }
}
