import { ChatOutputParser, type OutputEvent, type OutputParsing } from '../../src/emulator/chat-output-parser';
import { planModelOutput, type ModelToken } from '../../src/emulator/completion-plan';
import { validateChatRequest, type ChatRequest } from '../../src/emulator/chat-request';
import { applyOutputLimits } from '../../src/emulator/output-limits';
import { pyJsonDumps, pyRepr, PyTuple } from '../../src/emulator/python-repr';

const ALL_ON: OutputParsing = {
  separatesReasoning: true,
  forcesReasoning: true,
  streamsReasoning: true,
  parsesToolCalls: true,
};
/** Thinking off: with it on, output before `</think>` is reasoning, tool-call text included (as recorded). */
const NO_THINK: OutputParsing = { ...ALL_ON, forcesReasoning: false };

function request(body: Record<string, unknown>): ChatRequest {
  const result = validateChatRequest({ messages: [{ role: 'user', content: 'x' }], ...body });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.request;
}

function scripted(script: Record<string, unknown>, extra: Record<string, unknown> = {}): ModelToken[] {
  const features = { isGarbled: false, seed: 0, naturalLength: { min: 10, max: 10 } };
  const tools = [
    {
      type: 'function',
      function: {
        name: 'lookup',
        parameters: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'integer' } } },
      },
    },
  ];
  return planModelOutput(request({ tools, custom_params: { emulator_script: script }, ...extra }), features);
}

function run(tokens: ModelToken[], parsing: OutputParsing): { events: OutputEvent[]; parser: ChatOutputParser } {
  const parser = new ChatOutputParser(parsing);
  const events = tokens.flatMap((t) => parser.feed(t));
  events.push(...parser.end());
  return { events, parser };
}

test('stream_reasoning false with an unclosed thought: the held block (with <think>) comes out at the end', () => {
  const { events, parser } = run(scripted({ reasoning: 'still going', reasoning_closed: false }), {
    ...ALL_ON,
    streamsReasoning: false,
  });
  expect(events).toEqual([{ type: 'reasoning', text: '<think>still going' }]);
  expect(parser.reasoning).toBe('still going');
  expect(parser.contentText).toBe('');
});

test('string arguments are quoted and escaped as json.dumps writes them; other types stay raw', () => {
  const { events, parser } = run(
    scripted({ tool_calls: [{ name: 'lookup', arguments: { q: 'say "hi"\n', n: 3 } }] }),
    NO_THINK,
  );
  expect(events[0]).toEqual({ type: 'tool-start', toolIndex: 0, name: 'lookup' });
  expect(parser.toolCalls).toEqual([{ name: 'lookup', arguments: '{"q": "say \\"hi\\"\\n", "n": 3}' }]);
  expect(JSON.parse(parser.toolCalls[0]!.arguments)).toEqual({ q: 'say "hi"\n', n: 3 });
});

test('a call without arguments streams its name, then "{}"', () => {
  const { events, parser } = run(scripted({ tool_calls: [{ name: 'lookup', arguments: {} }] }), NO_THINK);
  expect(events).toEqual([
    { type: 'tool-start', toolIndex: 0, name: 'lookup' },
    { type: 'tool-args', toolIndex: 0, text: '{}' },
  ]);
  expect(parser.toolCalls).toEqual([{ name: 'lookup', arguments: '{}' }]);
});

test('without the tool parser the GLM tool-call text is content, tags and all', () => {
  const { parser } = run(scripted({ tool_calls: [{ name: 'lookup', arguments: { n: 1 } }] }), {
    ...NO_THINK,
    parsesToolCalls: false,
  });
  expect(parser.contentText).toBe('<tool_call>lookup<arg_key>n</arg_key><arg_value>1</arg_value></tool_call>');
  expect(parser.toolCalls).toEqual([]);
});

test('with thinking on and no </think>, even a tool call is reasoning (the template opened the block)', () => {
  const { parser } = run(scripted({ tool_calls: [{ name: 'lookup', arguments: { n: 1 } }] }), ALL_ON);
  expect(parser.toolCalls).toEqual([]);
  expect(parser.reasoning).toContain('<tool_call>lookup');
});

test('a stop string cuts inside a token and is reported as matched; the token still counts', () => {
  const cut = applyOutputLimits(
    scripted({ content: 'alpha beta gamma' }, { chat_template_kwargs: { enable_thinking: false } }),
    {
      maxNewTokens: 100,
      stop: ['et'],
      eosTokenId: 7,
    },
  );
  expect(cut.finish).toEqual({ type: 'stop', matched: 'et' });
  expect(cut.tokens.map((t) => t.text).join('')).toBe('alpha b');
});

test('Python reprs: quote choice, escapes, tuples, None/True', () => {
  expect(pyRepr("it's")).toBe('"it\'s"');
  expect(pyRepr('both \' and "')).toBe("'both \\' and \"'");
  expect(pyRepr(new PyTuple(['body']))).toBe("('body',)");
  expect(pyRepr({ a: null, b: true, c: [1, 'x\n'] })).toBe("{'a': None, 'b': True, 'c': [1, 'x\\n']}");
  expect(pyJsonDumps({ a: [1, 2], b: { c: 'é' } })).toBe('{"a": [1, 2], "b": {"c": "é"}}');
});
