import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorHandle } from '../../src/emulator';
import { createChatCompletion, streamChatCompletion } from '../../src/probes/chat-client';
import { ProbeHttpError, ProbeProtocolError, ProbeTransportError } from '../../src/probes/probe-errors';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('chat client against a healthy emulator', () => {
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });
  const target = () => ({ baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 10_000 });

  test('non-streaming: content, reasoning_content and usage', async () => {
    const reply = await createChatCompletion(target(), {
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'Hello there' }],
      max_tokens: 200,
    });
    expect(reply.status).toBe(200);
    expect(reply.model).toBe('glm-5.1');
    expect(reply.reasoningContent).toMatch(/\S/);
    expect(reply.content).toMatch(/\S/);
    expect(reply.usage!.completionTokens).toBeGreaterThan(0);
    expect(reply.usage!.totalTokens).toBe(reply.usage!.promptTokens + reply.usage!.completionTokens);
    expect(reply.toolCalls).toEqual([]);
  });

  test('chat_template_kwargs.enable_thinking=false turns reasoning off', async () => {
    const reply = await createChatCompletion(target(), {
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'Hello there' }],
      max_tokens: 200,
      chat_template_kwargs: { enable_thinking: false },
    });
    expect(reply.reasoningContent).toBeNull();
    expect(reply.content).toMatch(/\S/);
  });

  test('tools → tool_calls with JSON arguments naming the declared function', async () => {
    const reply = await createChatCompletion(target(), {
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'Weather in Paris? use get_weather' }],
      tools: [WEATHER],
      max_tokens: 300,
    });
    expect(reply.finishReason).toBe('tool_calls');
    expect(reply.toolCalls).toHaveLength(1);
    expect(reply.toolCalls[0]!.name).toBe('get_weather');
    expect(JSON.parse(reply.toolCalls[0]!.arguments)).toEqual({ city: expect.any(String) });
  });

  test('streaming assembles the same message as non-streaming (content, reasoning, tool calls)', async () => {
    const body = {
      model: 'glm-5.1',
      messages: [{ role: 'user' as const, content: 'Weather in Tokyo? use get_weather' }],
      tools: [WEATHER],
      max_tokens: 300,
    };
    const deltas: string[] = [];
    const streamed = await streamChatCompletion(target(), body, {
      onDelta: (d) => deltas.push(d.reasoningContent ?? d.content ?? ''),
    });
    const plain = await createChatCompletion(target(), body);
    expect(streamed.chunkCount).toBeGreaterThan(2);
    expect(streamed.reasoningContent).toBe(plain.reasoningContent);
    expect(streamed.toolCalls.map(({ name, arguments: a }) => ({ name, a }))).toEqual(
      plain.toolCalls.map(({ name, arguments: a }) => ({ name, a })),
    );
    expect(streamed.finishReason).toBe('tool_calls');
    expect(streamed.usage?.completionTokens).toBe(plain.usage?.completionTokens);
    expect(deltas.join('')).toBe(streamed.reasoningContent);
  });

  test('a request SGLang rejects → ProbeHttpError 400 with the OpenAI message', async () => {
    const error = await createChatCompletion(target(), { model: 'glm-5.1', messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProbeHttpError);
    expect((error as ProbeHttpError).status).toBe(400);
    expect((error as ProbeHttpError).errorMessage).toBe('Messages cannot be empty.');
  });

  test('a missing API key → ProbeHttpError 401 (streaming too), key never in the message', async () => {
    const noKey = { baseUrl: emulator.url, timeoutMs: 5_000 };
    const wrongKey = { ...noKey, apiKey: `${TEST_API_KEY}-wrong` };
    const body = { model: 'glm-5.1', messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(createChatCompletion(noKey, body)).rejects.toMatchObject({ name: 'ProbeHttpError', status: 401 });
    const error = (await streamChatCompletion(wrongKey, body).catch((e: unknown) => e)) as ProbeHttpError;
    expect(error.status).toBe(401);
    expect(error.message).not.toContain(TEST_API_KEY);
  });
});

describe('chat client failure shapes', () => {
  async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  }
  const body = { model: 'glm-5.1', messages: [{ role: 'user' as const, content: 'x' }] };

  test('warmup 5xx from the emulator fault → ProbeHttpError 500', async () => {
    const emulator = await startTestEmulator({
      config: { faults: [{ kind: 'http-error', firstRequests: 1, status: 500 }] },
    });
    try {
      const target = { baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 5_000 };
      await expect(createChatCompletion(target, body)).rejects.toMatchObject({
        status: 500,
        errorMessage: expect.stringContaining('CUDA graph'),
      });
      await expect(createChatCompletion(target, body)).resolves.toMatchObject({ status: 200 });
    } finally {
      await emulator.close();
    }
  });

  test('a scheduler hang → ProbeTransportError timeout', async () => {
    const emulator = await startTestEmulator({
      config: { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] },
    });
    try {
      const error = await createChatCompletion(
        { baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 300 },
        body,
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProbeTransportError);
      expect((error as ProbeTransportError).kind).toBe('timeout');
    } finally {
      await emulator.close();
    }
  });

  test('a stream cut before data: [DONE] → ProbeProtocolError', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify({ choices: [{ delta: { content: 'hi' } }] })}\n\n`);
    });
    try {
      await expect(streamChatCompletion({ baseUrl: server.url, timeoutMs: 2_000 }, body)).rejects.toBeInstanceOf(
        ProbeProtocolError,
      );
    } finally {
      await server.close();
    }
  });

  test('a 200 that is not a chat completion → ProbeProtocolError; an echoed key is redacted', async () => {
    const server = await serve((req, res) => res.writeHead(200).end(`<html>${req.headers.authorization}</html>`));
    try {
      const error = (await createChatCompletion(
        { baseUrl: server.url, apiKey: TEST_API_KEY, timeoutMs: 2_000 },
        body,
      ).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(ProbeProtocolError);
      expect(error.message).toContain('not JSON');
      expect(error.message).not.toContain(TEST_API_KEY);
    } finally {
      await server.close();
    }
  });
});
