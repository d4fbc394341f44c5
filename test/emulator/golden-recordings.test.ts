import { fastEnv, launchReady, type RunningEmulator } from '../helpers/emulator-fixture';
import {
  eventsByChoice,
  recorded,
  recordingArgv,
  recordingLikeModelDir,
  send,
  shapeOf,
  streamShape,
  type Answer,
  type RecordedExchange,
} from '../helpers/recorded-exchanges';

/**
 * Golden tests: the emulator, launched like the server the recordings were made with, answers each recorded request
 * with the same shape (keys, key order, JSON types, chunk order; text, ids, timing aside) — or, for errors, the same
 * body byte for byte. The recordings forced the model's output with a logit processor; the emulator's stand-in is
 * `custom_params.emulator_script`, given here the text each recording's forced model wrote.
 */

jest.setTimeout(60_000);

type Script = {
  reasoning?: string;
  reasoning_closed?: boolean;
  content?: string;
  tool_calls?: Array<{ name: string; arguments: Record<string, unknown> }>;
};

const HELLO: Script = { content: 'Hello world answer.' };
const THINK_THEN_HELLO: Script = { reasoning: 'Simple greeting.', content: 'Hello world answer.' };
const WEATHER_CALL: Script = {
  reasoning: 'The user wants weather.',
  content: 'Checking.',
  tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 3 } }],
};
const TWO_CALLS: Script = {
  reasoning: 'Two cities.',
  tool_calls: [
    { name: 'get_weather', arguments: { city: 'Paris' } },
    { name: 'get_weather', arguments: { city: 'Tokyo' } },
  ],
};

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await launchReady(recordingArgv(recordingLikeModelDir()), {
    ...fastEnv(),
    GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.17',
  });
});
afterAll(async () => emulator?.close());

/** Replays a recorded request: its forcing processor swapped for the emulator's script, optionally patched. */
function replay(exchange: RecordedExchange, script?: Script, patch: Record<string, unknown> = {}): Promise<Answer> {
  const { request } = exchange;
  let body = request.raw;
  if (request.json !== undefined) {
    const json = { ...(request.json as Record<string, unknown>), ...patch };
    const params = json.custom_params;
    delete json.custom_params;
    if (json.sampling_params) {
      const sampling = { ...(json.sampling_params as Record<string, unknown>) };
      delete sampling.custom_params;
      if (script) sampling.custom_params = { emulator_script: script };
      json.sampling_params = sampling;
    } else if (script) json.custom_params = { emulator_script: script };
    else if (params && !(params as Record<string, unknown>).script) json.custom_params = params;
    body = JSON.stringify(json);
  }
  const hasBody = request.method !== 'GET' && body !== undefined;
  return send(emulator.url, {
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: hasBody ? body : undefined,
  });
}

describe('non-streaming replies have the recorded shape', () => {
  test.each<[string, Script | undefined]>([
    ['chat_plain_nonstream', HELLO],
    ['chat_reasoning_nonstream', THINK_THEN_HELLO],
    ['chat_reasoning_unclosed', { reasoning: 'Still thinking about it all', reasoning_closed: false }],
    ['chat_tools_auto_nonstream', WEATHER_CALL],
    ['chat_tools_two_calls_nonstream', TWO_CALLS],
    ['chat_tools_no_call_nonstream', THINK_THEN_HELLO],
    ['chat_tool_result_turn', { reasoning: 'Got it.', content: 'It is 21 degrees.' }],
    ['chat_enable_thinking_false', HELLO],
    ['chat_separate_reasoning_false', THINK_THEN_HELLO],
    ['chat_n2_nonstream', HELLO],
    ['chat_logprobs_forced', HELLO],
    ['chat_stop_string', HELLO],
    ['chat_model_missing', HELLO],
    ['chat_model_other_name', HELLO],
    ['chat_lowercase_bearer', HELLO],
    ['completions_nonstream', HELLO],
    ['generate_nonstream', HELLO],
    ['generate_unforced', undefined],
    ['generate_input_ids_logprob', undefined],
    ['get_v1_models', undefined],
    ['get_v1_models_name', undefined],
    ['get_get_model_info', undefined],
    ['get_model_info', undefined],
    ['get_get_load', undefined],
  ])('%s', async (name, script) => {
    const exchange = recorded(name);
    const answer = await replay(exchange, script);
    expect(answer.status).toBe(exchange.response.status);
    expect(answer.headers.get('content-type')).toBe(exchange.response.headers['content-type']);
    expect(shapeOf(answer.json)).toEqual(shapeOf(exchange.response.json));
  });

  test('the texts land in the recorded fields (reasoning, content, tool calls, finish, matched_stop)', async () => {
    const plain = (await replay(recorded('chat_plain_nonstream'), HELLO)).json as LooseReply;
    // Thinking on and no </think>: GLM's template opened the block, so everything is reasoning, content "".
    expect(plain.choices[0].message).toEqual({
      role: 'assistant',
      content: '',
      reasoning_content: 'Hello world answer.',
      tool_calls: null,
    });
    expect(plain.choices[0].matched_stop).toBe(350);
    expect(plain.usage.reasoning_tokens).toBe(plain.usage.completion_tokens);

    const tools = (await replay(recorded('chat_tools_auto_nonstream'), WEATHER_CALL)).json as LooseReply;
    const expected = recorded('chat_tools_auto_nonstream').response.json as LooseReply;
    expect(tools.choices[0].message.content).toBe(expected.choices[0].message.content);
    expect(tools.choices[0].message.reasoning_content).toBe(expected.choices[0].message.reasoning_content);
    expect(tools.choices[0].message.tool_calls[0].function).toEqual(expected.choices[0].message.tool_calls[0].function);
    expect(tools.choices[0].message.tool_calls[0].id).toMatch(/^call_[0-9a-f]{24}$/);
    expect([tools.choices[0].finish_reason, tools.choices[0].matched_stop]).toEqual(['tool_calls', null]);

    const two = (await replay(recorded('chat_tools_two_calls_nonstream'), TWO_CALLS)).json as LooseReply;
    const recordedTwo = recorded('chat_tools_two_calls_nonstream').response.json as LooseReply;
    expect(two.choices[0].message.tool_calls.map((c: LooseReply) => [c.index, c.function])).toEqual(
      recordedTwo.choices[0].message.tool_calls.map((c: LooseReply) => [c.index, c.function]),
    );

    const off = (await replay(recorded('chat_separate_reasoning_false'), THINK_THEN_HELLO)).json as LooseReply;
    expect(off.choices[0].message.content).toBe(
      (recorded('chat_separate_reasoning_false').response.json as LooseReply).choices[0].message.content,
    );

    const stop = (await replay(recorded('chat_stop_string'), HELLO)).json as LooseReply;
    expect([stop.choices[0].message.reasoning_content, stop.choices[0].matched_stop]).toEqual(['Hello ', 'world']);
  });

  test('n=2: two choices with indexes 0 and 1, ids <rid>_<sub-rid>, usage summed over choices', async () => {
    const reply = (await replay(recorded('chat_n2_nonstream'), HELLO)).json as LooseReply;
    const single = (await replay(recorded('chat_plain_nonstream'), HELLO)).json as LooseReply;
    expect(reply.choices.map((c: LooseReply) => c.index)).toEqual([0, 1]);
    expect(reply.id).toMatch(/^[0-9a-f]{32}_[0-9a-f]{32}$/);
    expect(reply.usage.completion_tokens).toBe(2 * single.usage.completion_tokens);
    expect(reply.usage.prompt_tokens).toBe(single.usage.prompt_tokens);
  });

  test('the model name is echoed: another name comes back as sent, a missing one as "default"', async () => {
    expect(((await replay(recorded('chat_model_other_name'), HELLO)).json as LooseReply).model).toBe('gpt-4o');
    expect(((await replay(recorded('chat_model_missing'), HELLO)).json as LooseReply).model).toBe('default');
  });

  test('/v1/models: root is the served name, parent null, max_model_len the context length', async () => {
    const models = (await replay(recorded('get_v1_models'))).json as LooseReply;
    const { created: _created, ...card } = models.data[0];
    const { created: _recordedCreated, ...recordedCard } = (recorded('get_v1_models').response.json as LooseReply)
      .data[0];
    expect(card).toEqual(recordedCard);
  });
});

describe('streams have the recorded chunk order', () => {
  test.each<[string, Script]>([
    ['chat_plain_stream', HELLO],
    ['chat_plain_stream_usage', HELLO],
    ['chat_reasoning_stream', THINK_THEN_HELLO],
    ['chat_tools_auto_stream', WEATHER_CALL],
    ['chat_tools_two_calls_stream', TWO_CALLS],
    ['chat_enable_thinking_false_stream', HELLO],
    ['chat_separate_reasoning_false_stream', THINK_THEN_HELLO],
    ['chat_stream_reasoning_false', THINK_THEN_HELLO],
    ['chat_stop_string_stream', HELLO],
    ['completions_stream', HELLO],
    ['generate_stream', HELLO],
  ])('%s', async (name, script) => {
    const exchange = recorded(name);
    const answer = await replay(exchange, script);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(exchange.response.headers['content-type']);
    expect(streamShape(answer.events ?? [])).toEqual(streamShape(exchange.response.events ?? []));
  });

  test('n=2 stream: each choice streams as recorded; finish chunks, usage and [DONE] close it', async () => {
    const exchange = recorded('chat_n2_stream');
    const answer = await replay(exchange, HELLO);
    const mine = eventsByChoice(answer.events ?? []);
    const theirs = eventsByChoice(exchange.response.events ?? []);
    expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [index, events] of theirs) expect(streamShape(mine.get(index) ?? [])).toEqual(streamShape(events));
  });

  test('logprobs stream: the recorded chunk shapes, except chunks of partial UTF-8 tokens the emulator never makes', async () => {
    const exchange = recorded('chat_logprobs_unforced_stream');
    // The random model's byte-fallback tokens decode to nothing on their own: those chunks carry logprobs only.
    const withText = (exchange.response.events ?? []).filter((event) => {
      const choice = (event as LooseReply).choices?.[0];
      return !(choice && choice.logprobs && choice.delta.reasoning_content === null && !choice.finish_reason);
    });
    const answer = await replay(exchange, { content: 'Hello world answer.' });
    expect(streamShape(answer.events ?? [])).toEqual(streamShape(withText));
  });

  test('tool-call deltas: the name first with arguments "", then argument pieces; call_ + 24 hex ids', async () => {
    const answer = await replay(recorded('chat_tools_two_calls_stream'), TWO_CALLS);
    const calls = (answer.events ?? []).flatMap((e) => (e as LooseReply).choices?.[0]?.delta?.tool_calls ?? []);
    const starts = calls.filter((c: LooseReply) => c.function.name !== null);
    expect(starts.map((c: LooseReply) => [c.index, c.function.name, c.function.arguments])).toEqual([
      [0, 'get_weather', ''],
      [1, 'get_weather', ''],
    ]);
    for (const start of starts) expect(start.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(calls.every((c: LooseReply) => c.type === 'function')).toBe(true);
    const args = [0, 1].map((i) =>
      calls
        .filter((c: LooseReply) => c.index === i)
        .map((c: LooseReply) => c.function.arguments)
        .join(''),
    );
    expect(args).toEqual(['{"city": "Paris"}', '{"city": "Tokyo"}']);
  });
});

describe('errors, auth and routes answer with the recorded bodies', () => {
  test.each([
    'chat_empty_body',
    'chat_empty_messages',
    'chat_malformed_json',
    'chat_wrong_type_max_tokens',
    'chat_wrong_type_messages',
    'chat_wrong_role',
    'chat_temperature_negative',
    'chat_tool_named_unknown',
    'chat_tool_required_no_tools',
    'chat_json_schema_bad',
    'chat_no_auth',
    'chat_no_bearer_prefix',
    'chat_wrong_key',
    'chat_stream_no_auth',
    'get_v1_models_noauth',
    'get_v1_models_other',
    'get_ready',
    'get_version',
    'get_unknown_path',
    'get_chat_completions',
    'generate_no_auth',
    'get_health',
    'get_health_noauth',
  ])('%s', async (name) => {
    const exchange = recorded(name);
    const answer = await replay(exchange);
    expect(answer.status).toBe(exchange.response.status);
    if (exchange.response.json === undefined) expect(answer.text).toBe(exchange.response.text ?? '');
    else expect(answer.json).toEqual(exchange.response.json);
    for (const header of ['content-type', 'allow', 'vary']) {
      expect([header, answer.headers.get(header)]).toEqual([header, exchange.response.headers[header] ?? null]);
    }
  });

  test.each([
    ['chat_max_tokens_over_context', {}],
    ['chat_prompt_over_context', { messages: [{ role: 'user', content: 'hello world '.repeat(3000) }] }],
  ])('%s: the recorded message, token counts aside', async (name, patch) => {
    const exchange = recorded(name);
    const answer = await replay(exchange, undefined, patch);
    const digitsAside = (body: unknown) =>
      JSON.parse(JSON.stringify(body).replace(/\(\d+ tokens\)|\d+ tokens from|total of \d+/g, 'N'));
    expect(answer.status).toBe(400);
    expect(digitsAside(answer.json)).toEqual(digitsAside(exchange.response.json));
  });

  test('/get_server_info has every recorded top-level key, api_key in plain text, and version 0.5.17', async () => {
    const exchange = recorded('get_get_server_info_after');
    const answer = await replay(exchange);
    const body = answer.json as Record<string, unknown>;
    const recordedBody = exchange.response.json as Record<string, unknown>;
    const missing = Object.keys(recordedBody).filter((key) => !(key in body));
    expect(missing).toEqual([]);
    expect([body.api_key, body.version, body.served_model_name]).toEqual(['testkey', '0.5.17', 'glm-4.7']);
    expect(Object.keys(body).slice(-6)).toEqual(Object.keys(recordedBody).slice(-6));
    // The server arguments follow argparse's registration order (the recorded dataclass order differs in a few
    // places, see src/emulator/README.md); the fields after them are in SGLang's order.
    const internal = (body.internal_states as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    expect(Object.keys(internal)).toEqual(
      expect.arrayContaining([
        'last_gen_throughput',
        'memory_usage',
        'startup_time',
        'effective_max_running_requests_per_dp',
      ]),
    );
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded bodies are walked field by field
type LooseReply = any;
