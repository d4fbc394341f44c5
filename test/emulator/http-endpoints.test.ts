import * as http from 'node:http';
import {
  chat,
  fastEnv,
  guideArgv,
  launch,
  launchReady,
  makeModelDir,
  metricValue,
  withoutFlag,
  type RunningEmulator,
  type LooseJson,
} from '../helpers/emulator-fixture';
import { waitFor } from '../helpers/wait-for';

const KEY = 'sk-test-secret-123';
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'search_docs',
      parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer' } } },
    },
  },
];

describe('emulator HTTP surface (guide argv, API key set)', () => {
  let emulator: RunningEmulator;
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    emulator = await launchReady(
      guideArgv(makeModelDir({ shards: 3 }), ['--api-key', KEY]),
      fastEnv({ maxBodyBytes: 64 * 1024 }),
    );
  });
  afterAll(async () => emulator.close());

  test('/health and /health_generate answer 200 without the key once serving', async () => {
    expect((await fetch(`${emulator.url}/health`)).status).toBe(200);
    expect((await fetch(`${emulator.url}/health_generate`)).status).toBe(200);
  });

  test('routes other than /health and /metrics need the Bearer key (401 {"error":"Unauthorized"})', async () => {
    const denied = await fetch(`${emulator.url}/v1/models`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: 'Unauthorized' });
    expect((await fetch(`${emulator.url}/v1/models`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await chat(emulator.url, { messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(401);
    expect((await fetch(`${emulator.url}/metrics`)).status).toBe(200);
  });

  test('/v1/models lists the served name with root = served name, parent null, max_model_len = context length', async () => {
    const body = (await (await fetch(`${emulator.url}/v1/models`, { headers: auth })).json()) as LooseJson;
    expect(body.object).toBe('list');
    // The model folder's config.json names no context length, so GLM-5.1's 202752 applies (not --max-total-tokens).
    expect(body.data[0]).toMatchObject({
      id: 'glm-5.1',
      object: 'model',
      owned_by: 'sglang',
      root: 'glm-5.1',
      parent: null,
      max_model_len: 202752,
    });
  });

  test('/v1/models/{model}: the served name → its card; any other name → 404 model_not_found', async () => {
    const served = await fetch(`${emulator.url}/v1/models/glm-5.1`, { headers: auth });
    expect(served.status).toBe(200);
    expect(((await served.json()) as LooseJson).id).toBe('glm-5.1');
    const other = await fetch(`${emulator.url}/v1/models/gpt-4o`, { headers: auth });
    expect(other.status).toBe(404);
    expect(((await other.json()) as LooseJson).error.code).toBe('model_not_found');
  });

  test('/get_server_info and /server_info: server args, the API key in plain text as SGLang sends it, measured accept length', async () => {
    const before = (await (await fetch(`${emulator.url}/server_info`, { headers: auth })).json()) as LooseJson;
    // Nothing verified yet: SGLang reports no avg_spec_accept_length until EAGLE has run a verify step.
    expect(before.internal_states[0].avg_spec_accept_length).toBeUndefined();
    await chat(emulator.url, { messages: [{ role: 'user', content: 'measure me' }], max_tokens: 60 }, KEY);
    const body = (await (await fetch(`${emulator.url}/get_server_info`, { headers: auth })).json()) as LooseJson;
    expect(body).toMatchObject({
      served_model_name: 'glm-5.1',
      tp_size: 8,
      speculative_algorithm: 'EAGLE',
      tool_call_parser: 'glm47',
      api_key: KEY,
      status: 'ready',
    });
    const accept = body.internal_states[0].avg_spec_accept_length;
    expect(accept).toBeGreaterThan(2.5);
    expect(accept).toBeLessThanOrEqual(4);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('/get_model_info: model path, tokenizer path, architectures from config.json', async () => {
    const body = (await (await fetch(`${emulator.url}/get_model_info`, { headers: auth })).json()) as LooseJson;
    expect(body).toMatchObject({
      is_generation: true,
      architectures: ['GlmMoeDsaForCausalLM'],
      weight_version: 'default',
    });
    expect(body.tokenizer_path).toBe(body.model_path);
  });

  test('a non-streaming chat returns reasoning_content, content and usage; output is deterministic', async () => {
    const request = { model: 'glm-5.1', messages: [{ role: 'user', content: 'Hi there' }], max_tokens: 400 };
    const first = await chat(emulator.url, request, KEY);
    const second = await chat(emulator.url, request, KEY);
    expect(first.status).toBe(200);
    const message = first.json.choices[0].message;
    expect(message.role).toBe('assistant');
    expect(message.reasoning_content.length).toBeGreaterThan(0);
    expect(message.content.length).toBeGreaterThan(0);
    expect(first.json.choices[0].finish_reason).toBe('stop');
    expect(first.json.usage.prompt_tokens).toBeGreaterThan(0);
    expect(first.json.usage.total_tokens).toBe(first.json.usage.prompt_tokens + first.json.usage.completion_tokens);
    expect(second.json.choices[0].message).toEqual(message);
    const other = await chat(
      emulator.url,
      { ...request, messages: [{ role: 'user', content: 'Something else' }] },
      KEY,
    );
    expect(other.json.choices[0].message.content).not.toEqual(message.content);
  });

  test('enable_thinking false gives no reasoning_content', async () => {
    const result = await chat(
      emulator.url,
      { messages: [{ role: 'user', content: 'Hi' }], chat_template_kwargs: { enable_thinking: false } },
      KEY,
    );
    expect(result.json.choices[0].message.reasoning_content).toBeNull();
    expect(result.json.choices[0].message.content.length).toBeGreaterThan(0);
  });

  test('max_tokens cuts the output with finish_reason length', async () => {
    const result = await chat(emulator.url, { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 }, KEY);
    expect(result.json.usage.completion_tokens).toBe(3);
    expect(result.json.choices[0].finish_reason).toBe('length');
  });

  test('tools give tool_calls whose arguments are a JSON string naming a declared function', async () => {
    const result = await chat(
      emulator.url,
      {
        messages: [{ role: 'user', content: 'What is the weather in Paris? call get_weather' }],
        tools: TOOLS,
        max_tokens: 500,
      },
      KEY,
    );
    const choice = result.json.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls[0];
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(typeof call.function.arguments).toBe('string');
    const args = JSON.parse(call.function.arguments);
    expect(typeof args.city).toBe('string');
    expect(['c', 'f']).toContain(args.unit);
    const forced = await chat(
      emulator.url,
      {
        messages: [{ role: 'user', content: 'anything' }],
        tools: TOOLS,
        tool_choice: { type: 'function', function: { name: 'search_docs' } },
        max_tokens: 500,
      },
      KEY,
    );
    expect(forced.json.choices[0].message.tool_calls[0].function.name).toBe('search_docs');
    const none = await chat(
      emulator.url,
      { messages: [{ role: 'user', content: 'get_weather' }], tools: TOOLS, tool_choice: 'none', max_tokens: 500 },
      KEY,
    );
    expect(none.json.choices[0].message.tool_calls).toBeNull();
  });

  test('streaming sends SSE chunks with deltas, a finish chunk, usage, then data: [DONE]', async () => {
    const response = await fetch(`${emulator.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'Stream please' }],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 400,
      }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const reasoning = chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? '').join('');
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(reasoning.length).toBeGreaterThan(0);
    expect(content.length).toBeGreaterThan(0);
    const usage = chunks[chunks.length - 1].usage;
    expect(usage.completion_tokens).toBeGreaterThan(1);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    const nonStream = await chat(
      emulator.url,
      { messages: [{ role: 'user', content: 'Stream please' }], max_tokens: 400 },
      KEY,
    );
    expect(nonStream.json.choices[0].message.content).toBe(content);
  });

  test('streaming tool calls put id, name and argument pieces in delta.tool_calls', async () => {
    const response = await fetch(`${emulator.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'search_docs for kernels' }],
        tools: TOOLS,
        stream: true,
        max_tokens: 500,
      }),
    });
    const chunks = (await response.text())
      .split('\n\n')
      .filter((e) => e && e !== 'data: [DONE]')
      .map((e) => JSON.parse(e.slice(6)));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0].function.name).toBe('search_docs');
    expect(calls[0].id).toMatch(/^call_/);
    const args = JSON.parse(calls.map((c: LooseJson) => c.function.arguments).join(''));
    expect(Object.keys(args).sort()).toEqual(['limit', 'query']);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  test('/metrics has SGLang series with the sglang: prefix and a model_name label', async () => {
    await chat(emulator.url, { messages: [{ role: 'user', content: 'count me' }] }, KEY);
    const text = await (await fetch(`${emulator.url}/metrics`)).text();
    for (const name of [
      'sglang:num_running_reqs',
      'sglang:num_queue_reqs',
      'sglang:token_usage',
      'sglang:gen_throughput',
      'sglang:spec_accept_length',
      'sglang:prompt_tokens_total',
      'sglang:generation_tokens_total',
      'sglang:num_requests_total',
      'sglang:time_to_first_token_seconds_bucket',
      'sglang:inter_token_latency_seconds_bucket',
      'sglang:e2e_request_latency_seconds_count',
      'sglang:queue_time_seconds_sum',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}\\{[^}]*model_name="glm-5.1"`, 'm'));
    }
    expect(metricValue(text, 'sglang:num_requests_total')).toBeGreaterThan(0);
    expect(metricValue(text, 'sglang:spec_accept_length')).toBeGreaterThan(2.5);
    expect(text).not.toContain(KEY);
  });

  describe('bad input gets OpenAI-shaped errors and the engine keeps serving', () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${emulator.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', ...headers },
        body,
      });

    test.each([
      ['malformed JSON', '{"messages": [', 'Bad Request', "'type': 'json_invalid'"],
      [
        'missing messages',
        '{"model":"glm-5.1"}',
        'Bad Request',
        "'loc': ('body', 'messages'), 'msg': 'Field required'",
      ],
      ['empty messages', '{"messages":[]}', 'BadRequestError', 'Messages cannot be empty.'],
      [
        'wrong type for max_tokens',
        '{"messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}',
        'Bad Request',
        "'loc': ('body', 'max_tokens'), 'msg': 'Input should be a valid integer, unable to parse string as an integer'",
      ],
      ['wrong role', '{"messages":[{"role":"robot","content":"x"}]}', 'Bad Request', "Input should be 'user'"],
      [
        'max_tokens beyond the context length',
        '{"messages":[{"role":"user","content":"x"}],"max_tokens":300000}',
        'BadRequestError',
        "exceeds the model's maximum context length of 202752 tokens",
      ],
      [
        'negative temperature',
        '{"messages":[{"role":"user","content":"x"}],"temperature":-1}',
        'BadRequestError',
        'got -1.0.',
      ],
    ])('%s → 400 naming the problem', async (_name, body, type, text) => {
      const response = await post(body);
      expect(response.status).toBe(400);
      const error = (await response.json()) as LooseJson;
      expect(error).toMatchObject({ object: 'error', code: 400, type, param: null });
      expect(error.message).toContain(text);
    });

    test('another model name is served and echoed (SGLang ignores the name); max_tokens above the KV pool is clamped', async () => {
      const other = await post('{"model":"gpt-4","messages":[{"role":"user","content":"x"}],"max_tokens":70000}');
      expect(other.status).toBe(200);
      expect(((await other.json()) as LooseJson).model).toBe('gpt-4');
    });

    test('a non-JSON content type → 400 naming content-type', async () => {
      const response = await post('{}', { 'content-type': 'text/plain' });
      expect(response.status).toBe(400);
      expect(((await response.json()) as LooseJson).message).toContain('application/json');
    });

    test('an oversize body → 413 with the limit in the message', async () => {
      const big = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
      const response = await post(big);
      expect(response.status).toBe(413);
      expect(((await response.json()) as LooseJson).message).toContain(String(64 * 1024));
    });
  });
});

describe('emulator start-up and auth-less mode', () => {
  test('a client that disconnects mid-stream frees its slot (running gauge back to 0)', async () => {
    const slow = await launchReady(
      guideArgv(makeModelDir()),
      fastEnv({ phases: { weightLoadMs: 0, graphCaptureMs: 0 } }, { GLM_OPS_EMULATOR_TIME_SCALE: '0.05' }),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          `${slow.url}/v1/chat/completions`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', () => undefined);
        req.end(
          JSON.stringify({
            messages: [{ role: 'user', content: 'long one' }],
            stream: true,
            max_tokens: 5000,
            ignore_eos: true,
          }),
        );
        setTimeout(() => reject(new Error('no data')), 5000);
      });
      await waitFor(async () => {
        const text = await (await fetch(`${slow.url}/metrics`)).text();
        return metricValue(text, 'sglang:num_running_reqs') === 0;
      });
      expect((await chat(slow.url, { messages: [{ role: 'user', content: 'still alive?' }] })).status).toBe(200);
    } finally {
      await slow.close();
    }
  });

  test('the port refuses connections while the weights load, as real SGLang does; /health is 200 once ready', async () => {
    const emulator = await launch(
      guideArgv(makeModelDir()),
      fastEnv({ phases: { weightLoadMs: 300_000, graphCaptureMs: 0 } }, { GLM_OPS_EMULATOR_TIME_SCALE: '0.002' }),
    );
    try {
      await expect(fetch(`${emulator.url}/health`)).rejects.toThrow();
      await emulator.ready;
      expect((await fetch(`${emulator.url}/health`)).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  test('without --api-key every route is open; without --enable-metrics /metrics is 404', async () => {
    const emulator = await launchReady(withoutFlag(guideArgv(makeModelDir()), '--enable-metrics', true), fastEnv());
    try {
      expect((await fetch(`${emulator.url}/v1/models`)).status).toBe(200);
      expect((await fetch(`${emulator.url}/metrics`)).status).toBe(404);
    } finally {
      await emulator.close();
    }
  });

  test('unknown flags are accepted and logged; the API key never reaches the log', async () => {
    const emulator = await launchReady(
      guideArgv(makeModelDir(), ['--api-key', KEY, '--disable-radix-cache', '--chunked-prefill-size', '8192']),
      fastEnv(),
    );
    try {
      const log = emulator.logs.join('\n');
      expect(log).toContain('--disable-radix-cache');
      expect(log).toContain('--chunked-prefill-size');
      expect(log).not.toContain(KEY);
    } finally {
      await emulator.close();
    }
  });
});
