import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { measureStreamingChat } from '../../src/probes/stream-timing';

// A scripted SSE server with known gaps, so the probe's arithmetic is checked against exact ground truth.
function scriptedServer(
  script: Array<{ delayMs: number; data: string }>,
  status = 200,
): Promise<{ url: string; close(): Promise<void>; lastAuth: () => string | undefined }> {
  let lastAuth: string | undefined;
  const server = http.createServer(async (req, res) => {
    lastAuth = req.headers.authorization;
    req.resume();
    if (status !== 200) {
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"Unauthorized"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const step of script) {
      await new Promise((r) => setTimeout(r, step.delayMs));
      res.write(`data: ${step.data}\n\n`);
    }
    res.end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
        lastAuth: () => lastAuth,
      }),
    ),
  );
}

const delta = (d: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({ choices: [{ index: 0, delta: d, finish_reason: finish }] });

describe('measureStreamingChat (bench_serving definitions)', () => {
  test('TTFT skips empty chunks; TPOT = (latency − ttft)/(tokens − 1) with server-reported tokens', async () => {
    const server = await scriptedServer([
      { delayMs: 10, data: delta({ role: 'assistant', content: '' }) },
      { delayMs: 90, data: delta({ reasoning_content: 'think' }) },
      { delayMs: 50, data: delta({ content: ' a b c' }) },
      { delayMs: 50, data: delta({ content: ' d' }) },
      { delayMs: 0, data: delta({}, 'stop') },
      { delayMs: 0, data: JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 11 } }) },
      { delayMs: 0, data: '[DONE]' },
    ]);
    try {
      const result = await measureStreamingChat({ baseUrl: server.url, apiKey: 'k-123', body: { messages: [] } });
      expect(server.lastAuth()).toBe('Bearer k-123');
      expect(result.isOk).toBe(true);
      // The empty first chunk (10 ms) is not the first token: the reasoning chunk (~100 ms) is. A lower bound,
      // which a loaded machine only makes longer; the measurement's accuracy is bench/emulator-timing's.
      expect(result.ttftMs).toBeGreaterThanOrEqual(95);
      expect(result.outputTokens).toBe(11);
      expect(result.itlMs).toHaveLength(2);
      expect(result.tpotMs).toBeCloseTo((result.latencyMs - result.ttftMs) / 10, 6);
      // The whole stream took the server's 200 ms at least; the split between TTFT and the rest is not bounded below:
      // a client that reads the first token late (a loaded machine) moves time from the rest into TTFT.
      expect(result.latencyMs).toBeGreaterThanOrEqual(195);
      expect(result.latencyMs).toBeGreaterThan(result.ttftMs);
      expect(result.content).toBe(' a b c d');
      expect(result.reasoningContent).toBe('think');
      expect(result.finishReason).toBe('stop');
    } finally {
      await server.close();
    }
  });

  test('an HTTP error is reported with its status and never echoes the API key', async () => {
    const server = await scriptedServer([], 401);
    try {
      const result = await measureStreamingChat({
        baseUrl: server.url,
        apiKey: 'secret-key-xyz',
        body: { messages: [] },
      });
      expect(result.isOk).toBe(false);
      expect(result.status).toBe(401);
      expect(JSON.stringify(result)).not.toContain('secret-key-xyz');
    } finally {
      await server.close();
    }
  });

  test('a stream cut before [DONE] is not ok', async () => {
    const server = await scriptedServer([{ delayMs: 5, data: delta({ content: 'x' }) }]);
    try {
      const result = await measureStreamingChat({ baseUrl: server.url, body: { messages: [] } });
      expect(result.isOk).toBe(false);
      expect(result.error).toContain('[DONE]');
    } finally {
      await server.close();
    }
  });
});
