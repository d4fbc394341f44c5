import { measureStreamingChat } from '../../src/probes/stream-timing';
import { parseMetricsText, type MetricFamilies } from '../../src/probes/metrics-reader';
import { recordedLaunchArgv } from '../helpers/recorded-exchanges';
import { recordedBody } from '../helpers/sglang-recordings';
import { chat, fastEnv, launchReady, makeModelDir, type RunningEmulator } from '../helpers/emulator-fixture';

// The emulator's /metrics against the /metrics text the real SGLang 0.5.17 server returned after traffic
// (test/fixtures/sglang-real): the same families, types, label names and histogram buckets; values aside.

const RECORDINGS = ['cpu/get_metrics_after.http.txt', 'gpu/get_metrics_after.http.txt'];
/** Families whose series need something the emulator does not model (a prefix-cache hit). */
const WITHOUT_SERIES_IN_EMULATOR = ['sglang:cached_tokens_total'];

/** One GPU as recorded (no tp/ep, so no rank tags), metrics on, plus EAGLE so a chunk carries several tokens. */
function singleGpuArgv(): string[] {
  return recordedLaunchArgv(makeModelDir(), [
    '--speculative-algorithm',
    'EAGLE',
    '--speculative-num-steps',
    '3',
    '--speculative-eagle-topk',
    '1',
    '--speculative-num-draft-tokens',
    '4',
  ]);
}

const labelSets = (families: MetricFamilies, name: string): string[] =>
  [...new Set(families.get(name)!.series.map((s) => Object.keys(s.labels).sort().join(',')))].sort();

const bucketBounds = (families: MetricFamilies, name: string): number[] =>
  Object.keys(families.get(name)!.series[0]?.buckets ?? {})
    .map(Number)
    .sort((a, b) => a - b);

async function scrape(emulator: RunningEmulator): Promise<MetricFamilies> {
  return parseMetricsText(await (await fetch(`${emulator.url}/metrics`)).text());
}

async function traffic(emulator: RunningEmulator): Promise<void> {
  const ask = (content: string, extra: Record<string, unknown> = {}) => ({
    messages: [{ role: 'user', content }],
    max_tokens: 12,
    ignore_eos: true,
    ...extra,
  });
  expect((await chat(emulator.url, ask('plain'))).status).toBe(200);
  await measureStreamingChat({
    baseUrl: emulator.url,
    body: ask('streamed', { stream_options: { include_usage: true } }),
  });
  expect((await fetch(`${emulator.url}/health`)).status).toBe(200);
  await fetch(`${emulator.url}/v1/models/glm-4.7`);
  await fetch(`${emulator.url}/does_not_exist`);
}

describe('/metrics matches the recorded real exposition', () => {
  let emulator: RunningEmulator;
  let families: MetricFamilies;
  beforeAll(async () => {
    emulator = await launchReady(singleGpuArgv(), fastEnv({ phases: { weightLoadMs: 1_000, graphCaptureMs: 0 } }));
    await traffic(emulator);
    families = await scrape(emulator);
  }, 60_000);
  afterAll(async () => {
    await emulator.close();
  });

  test.each(RECORDINGS)('same family names and types as %s (no extra, none missing)', (recording) => {
    const real = parseMetricsText(recordedBody(recording));
    const typesOf = (f: MetricFamilies) =>
      Object.fromEntries([...f.values()].filter((x) => x.name.startsWith('sglang:')).map((x) => [x.name, x.type]));
    expect(typesOf(families)).toEqual(typesOf(real));
  });

  test.each(RECORDINGS)('same label names on every series, and the same histogram buckets, as %s', (recording) => {
    const real = parseMetricsText(recordedBody(recording));
    const withoutSeries = [...families.values()].filter((f) => f.series.length === 0).map((f) => f.name);
    expect(withoutSeries).toEqual(WITHOUT_SERIES_IN_EMULATOR);
    for (const family of real.values()) {
      if (WITHOUT_SERIES_IN_EMULATOR.includes(family.name)) continue;
      expect({ name: family.name, labels: labelSets(families, family.name) }).toEqual({
        name: family.name,
        labels: labelSets(real, family.name),
      });
      if (family.type === 'histogram')
        expect({ name: family.name, buckets: bucketBounds(families, family.name) }).toEqual({
          name: family.name,
          buckets: bucketBounds(real, family.name),
        });
    }
  });

  test('request-level series carry model_name and engine_type (+ is_streaming); scheduler series add the ranks', () => {
    const series = (name: string) => families.get(name)!.series.map((s) => s.labels);
    expect(series('sglang:num_requests_total')).toEqual(
      expect.arrayContaining([
        { engine_type: 'unified', is_streaming: 'false', model_name: 'glm-4.7' },
        { engine_type: 'unified', is_streaming: 'true', model_name: 'glm-4.7' },
      ]),
    );
    expect(series('sglang:num_running_reqs')).toEqual([
      { engine_type: 'unified', model_name: 'glm-4.7', moe_ep_rank: '0', pp_rank: '0', tp_rank: '0' },
    ]);
    expect(series('sglang:http_responses_total')).toEqual(
      expect.arrayContaining([
        { endpoint: '/v1/models/{model:path}', method: 'GET', status_code: '200' },
        { endpoint: '/does_not_exist', method: 'GET', status_code: '404' },
        { endpoint: '/health', method: 'GET', status_code: '200' },
      ]),
    );
  });

  test('inter-token latency is counted per token of streamed requests (as recorded), not per chunk', async () => {
    const itlCount = (f: MetricFamilies) => f.get('sglang:inter_token_latency_seconds')!.series[0]?.count ?? 0;
    const before = itlCount(await scrape(emulator));
    const streamed = await measureStreamingChat({
      baseUrl: emulator.url,
      body: { messages: [{ role: 'user', content: 'count me' }], max_tokens: 30, ignore_eos: true },
    });
    expect(streamed.outputTokens).toBe(30);
    // EAGLE delivers several tokens per chunk; ITL still gets one observation per token after the first.
    expect(streamed.itlMs.length).toBeLessThan(29);
    const afterStream = itlCount(await scrape(emulator));
    expect(afterStream - before).toBe(29);
    await chat(emulator.url, {
      messages: [{ role: 'user', content: 'not streamed' }],
      max_tokens: 30,
      ignore_eos: true,
    });
    expect(itlCount(await scrape(emulator))).toBe(afterStream);
  });
});
