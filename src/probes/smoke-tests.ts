import { performance } from 'node:perf_hooks';
import type { SmokeResult } from '../shared/rollout-types';
import { createChatCompletion, type ChatTool } from './chat-client';
import { readEngineInfo } from './engine-info';
import { probeHealth } from './health-probe';
import { missingMetrics, readMetrics, SGLANG_CORE_METRICS } from './metrics-reader';
import { ProbeHttpError } from './probe-errors';
import { ensureOk, probeFetch, readBodyText, redactSecret, type ProbeTarget } from './probe-target';

/** The post-deploy smoke tests, in the order they run (guide §16 health check sequence, plus parsers and auth). */
export const SMOKE_TEST_NAMES = [
  'health',
  'basic-inference',
  'models-list',
  'tool-call',
  'reasoning-content',
  'metrics',
  'engine-info',
  'auth-required',
] as const;

/** The name of one smoke test. */
export type SmokeTestName = (typeof SMOKE_TEST_NAMES)[number];

/** Options of a smoke-test run; the API key is required because "refused without it" is one of the tests. */
export interface RunSmokeTestsOptions extends Omit<ProbeTarget, 'apiKey'> {
  apiKey: string;
  /** The served model name `/v1/models` must list (`--served-model-name`). */
  servedName: string;
}

const ORDER_TOOL: ChatTool = {
  type: 'function',
  function: {
    name: 'get_order_status',
    description: 'Look up the shipping status of an order',
    parameters: {
      type: 'object',
      properties: { order_id: { type: 'string', description: 'The order number' } },
      required: ['order_id'],
    },
  },
};

type Check = (options: RunSmokeTestsOptions) => Promise<string>;

/** Thrown by a check to fail with a one-line reason. */
class SmokeCheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeCheckFailed';
  }
}

const CHECKS: Record<SmokeTestName, Check> = {
  async health(options) {
    const result = await probeHealth(options);
    if (result.outcome !== 'ok') throw new SmokeCheckFailed(`/health: ${result.outcome} (${result.detail})`);
    return `/health 200 in ${Math.round(result.latencyMs)} ms`;
  },

  async 'basic-inference'(options) {
    const reply = await createChatCompletion(options, {
      model: options.servedName,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 10,
    });
    const tokens = reply.usage?.completionTokens ?? 0;
    if (tokens < 1 && !reply.content && !reply.reasoningContent) {
      throw new SmokeCheckFailed('HTTP 200 but the assistant message is empty and no tokens were generated');
    }
    return `assistant replied with ${tokens} tokens (finish ${reply.finishReason ?? 'none'})`;
  },

  async 'models-list'(options) {
    const response = await probeFetch(options, '/v1/models');
    await ensureOk(response, options, 'GET', '/v1/models');
    const text = await readBodyText(response, options, 'GET', '/v1/models');
    let ids: string[];
    try {
      const body = JSON.parse(text) as { data?: Array<{ id?: unknown }> };
      ids = (body.data ?? []).map((m) => String(m.id));
    } catch {
      throw new SmokeCheckFailed('/v1/models reply is not JSON');
    }
    if (!ids.includes(options.servedName)) {
      throw new SmokeCheckFailed(
        `/v1/models lists [${ids.join(', ')}], not "${options.servedName}": check --served-model-name`,
      );
    }
    return `/v1/models lists ${options.servedName}`;
  },

  async 'tool-call'(options) {
    const reply = await createChatCompletion(options, {
      model: options.servedName,
      messages: [{ role: 'user', content: 'Where is my order A-1042? Use get_order_status.' }],
      tools: [ORDER_TOOL],
      tool_choice: 'auto',
      max_tokens: 256,
      chat_template_kwargs: { enable_thinking: false },
    });
    const call = reply.toolCalls[0];
    if (!call) {
      const text = (reply.content ?? '').slice(0, 80);
      throw new SmokeCheckFailed(
        `no tool_calls in the reply (content: ${JSON.stringify(text)}): check --tool-call-parser glm47`,
      );
    }
    if (call.name !== ORDER_TOOL.function.name) {
      throw new SmokeCheckFailed(`tool call names "${call.name}", not the declared "${ORDER_TOOL.function.name}"`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.arguments);
    } catch {
      throw new SmokeCheckFailed(
        `tool call arguments are not valid JSON: ${JSON.stringify(call.arguments.slice(0, 80))}`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new SmokeCheckFailed(`tool call arguments are JSON but not an object: ${call.arguments.slice(0, 80)}`);
    }
    return `${call.name}(${call.arguments.slice(0, 80)})`;
  },

  async 'reasoning-content'(options) {
    const reply = await createChatCompletion(options, {
      model: options.servedName,
      messages: [{ role: 'user', content: 'Is 17 a prime number? Think it through.' }],
      max_tokens: 256,
      chat_template_kwargs: { enable_thinking: true },
    });
    if (!reply.reasoningContent || reply.reasoningContent.trim() === '') {
      const hasRawThink = (reply.content ?? '').includes('<think>');
      throw new SmokeCheckFailed(
        `reasoning_content is empty with thinking on${hasRawThink ? ' (raw <think> block in content)' : ''}: ` +
          'check --reasoning-parser glm45',
      );
    }
    return `reasoning_content has ${reply.reasoningContent.length} characters`;
  },

  async metrics(options) {
    let snapshot;
    try {
      snapshot = await readMetrics({ ...options, apiKey: options.apiKey });
    } catch (err) {
      if (err instanceof ProbeHttpError && err.status === 404) {
        throw new SmokeCheckFailed('/metrics answered 404: add --enable-metrics to the launch command');
      }
      throw err;
    }
    if (snapshot.families.size === 0) {
      throw new SmokeCheckFailed(`/metrics is not Prometheus text (content-type ${snapshot.contentType || 'none'})`);
    }
    const missing = missingMetrics(snapshot.families);
    if (missing.length > 0) throw new SmokeCheckFailed(`/metrics lacks SGLang series: ${missing.join(', ')}`);
    const sglangCount = [...snapshot.families.keys()].filter((name) => name.startsWith('sglang:')).length;
    return `${sglangCount} sglang: families, including ${SGLANG_CORE_METRICS.length} core series`;
  },

  async 'engine-info'(options) {
    // After the checks above have generated, so EAGLE's accept length is measured (SGLang reports none before).
    const info = await readEngineInfo(options);
    const accept = info.avgSpecAcceptLength === null ? '' : `, accept length ${info.avgSpecAcceptLength.toFixed(2)}`;
    return `SGLang ${info.version}${info.speculativeAlgorithm ? ` with ${info.speculativeAlgorithm}${accept}` : ''}`;
  },

  async 'auth-required'(options) {
    const response = await probeFetch(options, '/v1/models', { shouldOmitApiKey: true });
    await readBodyText(response, options, 'GET', '/v1/models').catch(() => '');
    if (response.status === 401 || response.status === 403)
      return `request without the API key refused (HTTP ${response.status})`;
    // A 5xx never reached SGLang's key check (a dead engine behind the router): no reason to blame --api-key.
    if (response.status >= 500)
      throw new SmokeCheckFailed(
        `not checked: a request without the API key got HTTP ${response.status} (no engine answered)`,
      );
    throw new SmokeCheckFailed(`a request without the API key got HTTP ${response.status}, not 401/403: set --api-key`);
  },
};

/**
 * Runs every smoke test in order and reports each as a named result; a failing test never stops the others.
 * Details never contain the API key.
 */
export async function runSmokeTests(
  options: RunSmokeTestsOptions,
): Promise<Array<SmokeResult & { name: SmokeTestName }>> {
  const results: Array<SmokeResult & { name: SmokeTestName }> = [];
  for (const name of SMOKE_TEST_NAMES) {
    const startMs = performance.now();
    let passed = false;
    let detail: string;
    try {
      detail = await CHECKS[name](options);
      passed = true;
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      detail = err instanceof Error ? err.message : String(err);
    }
    results.push({
      name,
      passed,
      detail: redactSecret(detail, options.apiKey),
      durationMs: Math.round(performance.now() - startMs),
    });
  }
  return results;
}
