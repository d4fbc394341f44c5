import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChatCompletion } from '../../src/probes/chat-client';
import { readEngineInfo } from '../../src/probes/engine-info';
import { ProbeHttpError, ProbeProtocolError } from '../../src/probes/probe-errors';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';

const EAGLE = [
  '--speculative-algorithm',
  'EAGLE',
  '--speculative-num-steps',
  '3',
  '--speculative-eagle-topk',
  '1',
  '--speculative-num-draft-tokens',
  '4',
];

test('reads version and the measured EAGLE accept length; the key SGLang returns beside them is left behind', async () => {
  const emulator = await startTestEmulator({ extraArgs: EAGLE });
  try {
    const target = { baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 5_000 };
    // The raw reply carries the key in plain text, as real SGLang's does: the probe must not pass it on.
    const raw = await (
      await fetch(`${emulator.url}/server_info`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })
    ).text();
    expect(raw).toContain(TEST_API_KEY);
    const before = await readEngineInfo(target);
    expect(before).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      servedModelName: 'glm-5.1',
      speculativeAlgorithm: 'EAGLE',
      avgSpecAcceptLength: null,
    });
    await createChatCompletion(target, {
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'go' }],
      max_tokens: 80,
    });
    const after = await readEngineInfo(target);
    expect(after.avgSpecAcceptLength).toBeGreaterThan(2.5);
    expect(after.avgSpecAcceptLength).toBeLessThanOrEqual(4);
    expect(JSON.stringify(after)).not.toContain(TEST_API_KEY);
    expect(Object.keys(after).sort()).toEqual([
      'avgSpecAcceptLength',
      'servedModelName',
      'speculativeAlgorithm',
      'version',
    ]);
  } finally {
    await emulator.close();
  }
});

describe('failures name the path and the field, never the body', () => {
  const secret = 'sk-leak-check-0123456789';
  let server: http.Server;
  let url: string;
  let reply: { status: number; body: string };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      // /server_info exists here; a 404 would make the probe try /get_server_info.
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test.each([
    [
      'a reply without version',
      200,
      JSON.stringify({ api_key: secret, internal_states: [] }),
      ProbeProtocolError,
      'version',
    ],
    ['a non-JSON reply', 200, `api_key=${secret}`, ProbeProtocolError, 'not JSON'],
    ['an error status', 500, JSON.stringify({ message: `boom ${secret}` }), ProbeHttpError, 'HTTP 500'],
  ])('%s', async (_name, status, body, errorClass, text) => {
    reply = { status, body };
    const error = await readEngineInfo({ baseUrl: url, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toContain(text);
    expect((error as Error).message).not.toContain(secret);
  });
});
