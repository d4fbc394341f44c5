import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ChatRequest, describeRequestIssues } from './chat-request';
import { planCompletion, type CompletionPlan, type PlannedToken } from './completion-plan';
import type { Engine } from './engine';
import { openAiError } from './openai-error';
import { SeededRandom } from './seeded-random';

/** Sends a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The model's timing for one request, in wall-clock ms (already time-scaled). */
export interface RequestTiming {
  queueMs: number;
  ttftMs: number;
  tpotMs: number;
}

interface Step {
  /** Offset from the first token, in wall-clock ms. */
  atMs: number;
  tokens: PlannedToken[];
}

/** Handles `POST /v1/chat/completions`: validation, queueing, the timing model, streaming and not. */
export async function handleChatCompletion(
  engine: Engine,
  res: ServerResponse,
  body: unknown,
  arrivalMs: number,
): Promise<void> {
  const parsed = ChatRequest.safeParse(body);
  if (!parsed.success) {
    sendJson(
      res,
      400,
      openAiError(400, describeRequestIssues(parsed.error), String(parsed.error.issues[0]?.path[0] ?? 'body')),
    );
    return;
  }
  const request = parsed.data;
  const { args } = engine;
  if (
    request.model !== undefined &&
    request.model !== args.servedModelName &&
    request.model !== args.modelPath &&
    request.model !== 'default'
  ) {
    sendJson(
      res,
      404,
      openAiError(
        404,
        `The model \`${request.model}\` does not exist; this server serves \`${args.servedModelName}\`.`,
        'model',
      ),
    );
    return;
  }
  const hasGarbledKv =
    args.kvCacheDtype.startsWith('fp8') && engine.gpu.isBlackwell && (args.nsaDecodeBackend ?? '') !== 'trtllm';
  const plan = planCompletion(request, {
    hasToolCallParser: Boolean(args.toolCallParser),
    hasReasoningParser: Boolean(args.reasoningParser) && request.separate_reasoning,
    isGarbled: hasGarbledKv,
    seed: engine.settings.config.seed,
    naturalLength: engine.settings.config.outputTokens,
  });
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? 0;
  if (plan.promptTokens + maxTokens > args.maxTotalTokens) {
    sendJson(
      res,
      400,
      openAiError(
        400,
        `Requested token count exceeds the model's maximum context length of ${args.maxTotalTokens} tokens. ` +
          `You requested a total of ${plan.promptTokens + maxTokens} tokens: ${plan.promptTokens} tokens from the input ` +
          `messages and ${maxTokens} tokens for the completion. Please reduce max_tokens.`,
        'max_tokens',
      ),
    );
    return;
  }
  const injectedStatus = engine.admitChatRequest();
  if (engine.isGone) {
    res.destroy();
    return;
  }
  if (injectedStatus !== undefined) {
    engine.log.error(`[http_server] Error: injected fault: internal server error (request ${engine.chatRequestCount})`);
    sendJson(
      res,
      injectedStatus,
      openAiError(injectedStatus, 'Internal server error: CUDA graph replay failed (injected fault)'),
    );
    return;
  }
  await runRequest(engine, res, request, plan, arrivalMs);
}

async function runRequest(
  engine: Engine,
  res: ServerResponse,
  request: ChatRequest,
  plan: CompletionPlan,
  arrivalMs: number,
): Promise<void> {
  const ticket = engine.scheduler.enqueue();
  let isClosed = false;
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  res.on('close', () => {
    isClosed = true;
    onClosed();
  });
  const id = `chatcmpl-${SeededRandom.fromText(`${arrivalMs}-${engine.chatRequestCount}`)
    .int(0, 2 ** 31)
    .toString(16)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = engine.args.servedModelName;
  let heldTokens = 0;
  let generated = 0;
  try {
    await Promise.race([ticket.granted, closed]);
    if (isClosed || engine.isGone) return abort();
    const admittedMs = performance.now();
    const timing = computeTiming(engine, plan, admittedMs - arrivalMs);
    heldTokens = plan.promptTokens;
    engine.usedTokens += heldTokens;
    const steps = planSteps(engine, plan, timing.tpotMs, request);
    const firstTokenMs = admittedMs + (timing.ttftMs - timing.queueMs);
    const includeUsage = request.stream_options?.include_usage === true;
    if (request.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.flushHeaders();
    }
    let previousMs = firstTokenMs;
    let firstWriteLateMs = 0;
    let isFirst = true;
    for (const step of steps) {
      const dueMs = firstTokenMs + step.atMs;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await Promise.race([sleepMs(waitMs), closed]);
      // A wedged scheduler produces nothing more; the request lives until the client gives up.
      if (engine.hang !== 'none') await closed;
      if (isClosed || engine.isGone) return abort();
      generated += step.tokens.length;
      engine.usedTokens += step.tokens.length;
      heldTokens += step.tokens.length;
      // The prefill step yields one token; only verify steps feed gen_throughput's accept length.
      engine.recordStep(step.tokens.length, !isFirst);
      if (!isFirst)
        engine.metrics.interTokenLatency.observe(
          engine.metrics.labelValues,
          (dueMs - previousMs) / 1000 / step.tokens.length,
        );
      previousMs = dueMs;
      if (request.stream) {
        for (const delta of deltasFor(step.tokens, plan, isFirst)) {
          res.write(`data: ${JSON.stringify(chunk(id, created, model, delta, null))}\n\n`);
        }
      }
      if (isFirst) firstWriteLateMs = performance.now() - firstTokenMs;
      isFirst = false;
    }
    const endMs = performance.now();
    const usage = {
      prompt_tokens: plan.promptTokens,
      completion_tokens: plan.tokens.length,
      total_tokens: plan.promptTokens + plan.tokens.length,
    };
    const report = engine.settings.config.reportTiming
      ? {
          emulator_timing: {
            queue_ms: timing.queueMs,
            ttft_ms: timing.ttftMs,
            tpot_ms: timing.tpotMs,
            first_token_late_ms: firstWriteLateMs,
            arrival_epoch_ms: performance.timeOrigin + arrivalMs,
            first_write_epoch_ms: performance.timeOrigin + firstTokenMs + firstWriteLateMs,
          },
        }
      : {};
    observeFinished(engine, plan, (firstTokenMs - arrivalMs) / 1000, (endMs - arrivalMs) / 1000, timing.queueMs / 1000);
    if (request.stream) {
      res.write(`data: ${JSON.stringify({ ...chunk(id, created, model, {}, plan.finishReason), ...report })}\n\n`);
      if (includeUsage)
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
        );
      res.end('data: [DONE]\n\n');
    } else {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: fullMessage(plan),
            logprobs: null,
            finish_reason: plan.finishReason,
            matched_stop: null,
          },
        ],
        usage,
        ...report,
      });
    }
  } finally {
    ticket.release();
    engine.usedTokens -= heldTokens;
  }

  function abort(): void {
    engine.metrics.abortedRequests.inc(engine.metrics.labelValues);
    if (generated > 0) engine.metrics.generationTokens.inc(engine.metrics.labelValues, generated);
    if (!res.destroyed) res.destroy();
  }
}

/** The timing model: queue wait, prefill (grows with the prompt), graph capture for new shapes, TPOT under load. */
function computeTiming(engine: Engine, plan: CompletionPlan, queueMs: number): RequestTiming {
  const model = engine.settings.config.timing;
  let prefillMs = model.ttftBaseMs + model.prefillMsPerToken * plan.promptTokens;
  if (!engine.capturedShapes.has(plan.shapeKey)) {
    engine.capturedShapes.add(plan.shapeKey);
    const captureMs = engine.settings.config.phases.graphCaptureMs;
    if (captureMs > 0) {
      engine.log.scheduler(`Capture cuda graph begin. This can take up to several minutes. shape=${plan.shapeKey}`);
      const timer = setTimeout(
        () =>
          engine.log.scheduler(
            `Capture cuda graph end. Time elapsed: ${(captureMs / 1000).toFixed(2)} s. shape=${plan.shapeKey}`,
          ),
        engine.scaled(captureMs),
      );
      timer.unref();
      prefillMs += captureMs;
    }
  }
  const running = engine.scheduler.running;
  const baseTpot = engine.isSpeculative ? model.tpotEagleMs : model.tpotPlainMs;
  const tpotMs = engine.scaled(baseTpot * (1 + model.tpotLoadSlope * Math.max(0, running - 1)));
  return { queueMs, ttftMs: queueMs + engine.scaled(prefillMs), tpotMs };
}

/** Groups tokens into decode steps: one per token without EAGLE, accept-length runs (mean ~3.5) with it. */
function planSteps(engine: Engine, plan: CompletionPlan, tpotMs: number, request: ChatRequest): Step[] {
  const steps: Step[] = [];
  const tokens = plan.tokens;
  if (tokens.length === 0) return steps;
  steps.push({ atMs: 0, tokens: [tokens[0] as PlannedToken] });
  const maxAccept = (engine.args.speculativeNumSteps ?? 3) + 1;
  const meanAccept = Math.min(engine.settings.config.timing.acceptLength, maxAccept);
  const rng = SeededRandom.fromText(JSON.stringify(request.messages), engine.settings.config.seed + 1);
  let index = 1;
  while (index < tokens.length) {
    const size = engine.isSpeculative ? acceptLength(rng, meanAccept, maxAccept) : 1;
    const last = Math.min(tokens.length - 1, index + size - 1);
    // A step's tokens land when its last one is due, so (latency - ttft) / (n - 1) equals TPOT exactly.
    steps.push({ atMs: last * tpotMs, tokens: tokens.slice(index, last + 1) });
    index = last + 1;
  }
  return steps;
}

function acceptLength(rng: SeededRandom, mean: number, max: number): number {
  // Two neighbouring lengths whose mix has the configured mean.
  const low = Math.floor(mean);
  const high = Math.min(max, low + 1);
  return rng.next() < mean - low ? high : low;
}

function deltasFor(tokens: PlannedToken[], plan: CompletionPlan, isFirst: boolean): Array<Record<string, unknown>> {
  const deltas: Array<Record<string, unknown>> = [];
  const seenTools = new Set<number>();
  let current: Record<string, unknown> | undefined;
  let currentChannel = '';
  for (const token of tokens) {
    if (token.channel !== currentChannel || token.channel === 'tool') {
      if (!(token.channel === 'tool' && currentChannel === 'tool' && current)) {
        current = {};
        deltas.push(current);
      }
      currentChannel = token.channel;
    }
    const delta = current as Record<string, unknown>;
    if (token.channel === 'reasoning') delta.reasoning_content = String(delta.reasoning_content ?? '') + token.text;
    else if (token.channel === 'content') delta.content = String(delta.content ?? '') + token.text;
    else {
      const index = token.toolIndex ?? 0;
      const call = plan.toolCalls[index];
      const list = (delta.tool_calls ??= []) as Array<{
        index: number;
        id?: string;
        type?: string;
        function: { name?: string; arguments: string };
      }>;
      let entry = list.find((e) => e.index === index);
      if (!entry) {
        entry = { index, function: { arguments: '' } };
        if (!seenTools.has(index) && token === plan.tokens.find((t) => t.channel === 'tool' && t.toolIndex === index)) {
          entry.id = call?.id;
          entry.type = 'function';
          entry.function.name = call?.name;
        }
        seenTools.add(index);
        list.push(entry);
      }
      entry.function.arguments += token.text;
    }
  }
  if (isFirst && deltas[0]) deltas[0] = { role: 'assistant', ...deltas[0] };
  return deltas;
}

function chunk(
  id: string,
  created: number,
  model: string,
  delta: Record<string, unknown>,
  finishReason: string | null,
): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason, matched_stop: null }],
  };
}

function fullMessage(plan: CompletionPlan): Record<string, unknown> {
  const reasoning = plan.tokens
    .filter((t) => t.channel === 'reasoning')
    .map((t) => t.text)
    .join('');
  const content = plan.tokens
    .filter((t) => t.channel === 'content')
    .map((t) => t.text)
    .join('');
  return {
    role: 'assistant',
    content: content === '' && plan.toolCalls.length > 0 ? null : content,
    reasoning_content: reasoning === '' ? null : reasoning,
    tool_calls:
      plan.toolCalls.length === 0
        ? null
        : plan.toolCalls.map((c, index) => ({
            id: c.id,
            index,
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          })),
  };
}

function observeFinished(engine: Engine, plan: CompletionPlan, ttftS: number, e2eS: number, queueS: number): void {
  const labels = engine.metrics.labelValues;
  engine.metrics.requests.inc(labels);
  engine.metrics.promptTokens.inc(labels, plan.promptTokens);
  engine.metrics.generationTokens.inc(labels, plan.tokens.length);
  engine.metrics.timeToFirstToken.observe(labels, ttftS);
  engine.metrics.e2eLatency.observe(labels, e2eS);
  engine.metrics.queueTime.observe(labels, queueS);
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
