import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchDatasetError, BenchOptionsError, resolveTarget, runBench, runBenchDetailed } from '../../src/loadgen';
import type { EmulatorHandle } from '../../src/emulator';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';

// A real run: undici streams against the emulator (EAGLE on, so it reports an accept length), small counts.
const EAGLE = ['--speculative-algorithm', 'EAGLE', '--speculative-num-steps', '3', '--speculative-eagle-topk', '1'];
const random = { name: 'random' as const, inputLen: 64, outputLen: 24, rangeRatio: 1 };

describe('runBench against the emulator', () => {
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    emulator = await startTestEmulator({
      config: { phases: { weightLoadMs: 0, graphCaptureMs: 0 } },
      extraArgs: [...EAGLE, '--speculative-num-draft-tokens', '4'],
    });
  }, 60_000);
  afterAll(async () => emulator?.close());

  test('every request completes with the asked output length (ignore_eos), figures under bench_serving keys', async () => {
    const progress: number[] = [];
    const run = await runBenchDetailed({
      baseUrl: emulator.url,
      apiKey: TEST_API_KEY,
      model: 'glm-5.1',
      dataset: random,
      numPrompts: 12,
      maxConcurrency: 4,
      onProgress: (p) => progress.push(p.completed + p.failed),
    });
    const s = run.summary;
    expect([s.backend, s.dataset_name, s.request_rate, s.max_concurrency]).toEqual([
      'sglang-oai-chat',
      'random',
      'inf',
      4,
    ]);
    expect([s.completed, s.failed, s.total_output_tokens]).toEqual([12, 0, 12 * 24]);
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // The server's usage counts the prompt (four characters a token, plus its template's few).
    expect(run.records.every((r) => r.promptTokens >= 64 && r.promptTokens <= 72)).toBe(true);
    expect(run.records.every((r) => r.ttft > 0 && r.latency >= r.ttft && r.outputTokens === 24)).toBe(true);
    // At most 4 in flight: the time spent in requests over the run's length cannot exceed 4.
    expect(s.concurrency).toBeGreaterThan(0);
    expect(s.concurrency).toBeLessThanOrEqual(4);
    expect(s.accept_length).toEqual(expect.any(Number));
    expect(s.accept_length).toBeGreaterThan(1);
  }, 60_000);

  test('the warmup dataset sends the four diverse shapes (tools included); a rate spreads the arrivals', async () => {
    const s = await runBench({
      baseUrl: `${emulator.url}/v1/`,
      apiKey: TEST_API_KEY,
      model: 'glm-5.1',
      dataset: { name: 'warmup' },
      numPrompts: 8,
      requestRate: 50,
      seed: 5,
      warmupRequests: 0,
    });
    expect([s.completed, s.failed, s.request_rate, s.max_concurrency]).toEqual([8, 0, 50, null]);
    expect(s.random_input_len).toBeUndefined();
  }, 60_000);

  test('a wrong API key fails the warm-up, named, without the key', async () => {
    const run = runBench({
      baseUrl: emulator.url,
      apiKey: 'sk-wrong-key-0000',
      model: 'glm-5.1',
      dataset: random,
      numPrompts: 2,
    });
    await expect(run).rejects.toThrow(BenchOptionsError);
    await expect(run).rejects.toThrow(/every warm-up request failed: HTTP 401/);
    await expect(run).rejects.not.toThrow(/sk-wrong-key-0000/);
  });

  test('without warm-up, failed requests are counted as failed, not in the figures', async () => {
    const s = await runBench({
      baseUrl: emulator.url,
      apiKey: 'sk-wrong-key-0000',
      model: 'glm-5.1',
      dataset: random,
      numPrompts: 3,
      warmupRequests: 0,
    });
    expect([s.completed, s.failed, s.total_output_tokens, s.mean_ttft_ms]).toEqual([0, 3, 0, 0]);
  });
});

describe('runBench input checks', () => {
  const base = { baseUrl: 'http://127.0.0.1:9', model: 'glm-5.1', dataset: random, numPrompts: 1 };
  test.each([
    [{ numPrompts: 0 }, /numPrompts 0 must be an integer >= 1/],
    [{ maxConcurrency: 1.5 }, /maxConcurrency 1.5 must be an integer >= 1/],
    [{ requestRate: 0 }, /requestRate 0 must be > 0/],
    [{ warmupRequests: -1 }, /warmupRequests -1 must be an integer >= 0/],
    [{ dataset: { ...random, rangeRatio: 2 } }, /dataset.rangeRatio 2 must be in \[0, 1\]/],
    [{ baseUrl: 'localhost:30000' }, /baseUrl "localhost:30000" must be http:\/\/ or https:\/\//],
  ])('%o is refused, naming the field', async (patch, message) => {
    await expect(runBench({ ...base, ...patch })).rejects.toThrow(message);
  });

  test('the base URL gains /v1 when it lacks it; /server_info is at the root', () => {
    expect(resolveTarget('http://h:1')).toEqual({
      origin: 'http://h:1',
      chatPath: '/v1/chat/completions',
      rootPath: '',
    });
    expect(resolveTarget('https://h/app/v1/')).toEqual({
      origin: 'https://h',
      chatPath: '/app/v1/chat/completions',
      rootPath: '/app',
    });
  });

  test('dataset files: ShareGPT turns, JSONL messages or prompts; a bad line is named with its field', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-loadgen-'));
    const bad = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(bad, '{"prompt":"hello there"}\n{"messages":[{"role":"robot","content":"x"}]}\n');
    await expect(runBench({ ...base, dataset: { name: 'jsonl', path: bad } })).rejects.toThrow(BenchDatasetError);
    await expect(runBench({ ...base, dataset: { name: 'jsonl', path: bad } })).rejects.toThrow(
      new RegExp(`${bad} line 2: .*messages\\.0\\.role`),
    );
    const missing = path.join(dir, 'none.json');
    await expect(runBench({ ...base, dataset: { name: 'sharegpt', path: missing } })).rejects.toThrow(
      `--dataset-path ${missing}: cannot read it (ENOENT)`,
    );
  });
});
