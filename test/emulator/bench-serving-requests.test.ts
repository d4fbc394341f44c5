import {
  fastEnv,
  guideArgv,
  launchReady,
  makeModelDir,
  type LooseJson,
  type RunningEmulator,
} from '../helpers/emulator-fixture';

/**
 * The calls SGLang's own `bench_serving --backend sglang` makes (sglang/benchmark/serving.py): the tokenizer from
 * `/model_info`, `/flush_cache` with `--flush-cache`, streamed `POST /generate` with its exact payload keys (text or
 * input_ids), and the accept length from `/server_info`'s `internal_states`.
 */

const KEY = 'sk-bench-serving-check-1';
let emulator: RunningEmulator;
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

beforeAll(async () => {
  emulator = await launchReady(guideArgv(makeModelDir(), ['--api-key', KEY]), fastEnv());
});
afterAll(async () => emulator?.close());

/** bench_serving's payload for one request (`async_request_sglang_generate`). */
function benchPayload(prompt: string | number[], outputLen: number): Record<string, unknown> {
  return {
    [typeof prompt === 'string' ? 'text' : 'input_ids']: prompt,
    sampling_params: { temperature: 0, max_new_tokens: outputLen, ignore_eos: true },
    stream: true,
    lora_path: null,
    return_logprob: false,
    return_routed_experts: false,
    logprob_start_len: -1,
  };
}

/** Reads a stream the way bench_serving does: `data: ` lines, cumulative text, completion_tokens from meta_info. */
async function streamGenerate(payload: Record<string, unknown>): Promise<{ texts: string[]; counts: number[] }> {
  const response = await fetch(`${emulator.url}/generate`, { method: 'POST', headers, body: JSON.stringify(payload) });
  expect(response.status).toBe(200);
  const texts: string[] = [];
  const counts: number[] = [];
  const lines = (await response.text()).split('\n').filter((l) => l.trim() !== '');
  expect(lines[lines.length - 1]).toBe('data: [DONE]');
  for (const line of lines.slice(0, -1)) {
    const data = JSON.parse(line.slice('data: '.length)) as LooseJson;
    texts.push(data.text);
    counts.push(data.meta_info.completion_tokens);
  }
  return { texts, counts };
}

test('the tokenizer path comes from /model_info', async () => {
  const info = (await (await fetch(`${emulator.url}/model_info`, { headers })).json()) as LooseJson;
  expect(typeof info.tokenizer_path).toBe('string');
  expect(info.tokenizer_path).toBe(info.model_path);
});

test('--flush-cache: /flush_cache answers 200 when idle', async () => {
  const response = await fetch(`${emulator.url}/flush_cache`, { method: 'POST', headers });
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('Cache flushed.');
});

test.each([
  ['text prompt (random, sharegpt datasets)', 'Explain the KV cache in one paragraph.'],
  ['token ids (random-ids dataset)', [101, 2023, 2003, 1037, 3231]],
])('streamed /generate with %s: cumulative text, completion_tokens reaching max_new_tokens', async (_name, prompt) => {
  const { texts, counts } = await streamGenerate(benchPayload(prompt, 24));
  expect(counts[counts.length - 1]).toBe(24);
  for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
  // EAGLE steps deliver several tokens at once: bench_serving spreads a chunk's gap over its new tokens.
  expect(counts.length).toBeLessThan(24);
  expect([...counts].sort((a, b) => a - b)).toEqual(counts);
});

test('the accept length is in /server_info internal_states[0] once generation ran', async () => {
  await streamGenerate(benchPayload('warm', 32));
  const info = (await (await fetch(`${emulator.url}/server_info`, { headers })).json()) as LooseJson;
  const accept = info.internal_states[0].avg_spec_accept_length;
  expect(accept).toBeGreaterThan(2.5);
  expect(accept).toBeLessThanOrEqual(4);
});
