import { createChatCompletion } from '../../src/probes/chat-client';
import {
  missingMetrics,
  parseMetricsText,
  readGauge,
  readMetrics,
  readTotal,
  SGLANG_CORE_METRICS,
} from '../../src/probes/metrics-reader';
import { recordedBody } from '../helpers/sglang-recordings';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator-fixture';

test("reads the emulator's /metrics: SGLang core families with the served model label", async () => {
  const emulator = await startTestEmulator();
  try {
    const target = { baseUrl: emulator.url, apiKey: TEST_API_KEY, timeoutMs: 5_000 };
    await createChatCompletion(target, {
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    });
    const snapshot = await readMetrics(target);
    expect(snapshot.contentType).toContain('text/plain');
    expect(missingMetrics(snapshot.families)).toEqual([]);
    expect(readGauge(snapshot.families, 'sglang:num_running_reqs', { model_name: 'glm-5.1', tp_rank: '0' })).toBe(0);
    // SGLang's own warm-up generate is request 1 (as recorded), the chat request 2.
    expect(
      readTotal(snapshot.families, 'sglang:num_requests_total', { model_name: 'glm-5.1', is_streaming: 'false' }),
    ).toBe(2);
    expect(readTotal(snapshot.families, 'sglang:num_requests_total', { is_streaming: 'true' })).toBeUndefined();
    const ttft = snapshot.families.get('sglang:time_to_first_token_seconds')!;
    expect(ttft.type).toBe('histogram');
    expect(ttft.series).toHaveLength(1);
    expect(ttft.series[0]).toMatchObject({
      labels: { model_name: 'glm-5.1', engine_type: 'unified', is_streaming: 'false' },
    });
    expect(ttft.series[0]!.count).toBe(2);
    expect(ttft.series[0]!.sum).toBeGreaterThan(0);
    expect(ttft.series[0]!.buckets!['+Inf']).toBe(ttft.series[0]!.count);
  } finally {
    await emulator.close();
  }
});

test('without --enable-metrics /metrics is 404 → ProbeHttpError', async () => {
  const emulator = await startTestEmulator({ omit: ['--enable-metrics'] });
  try {
    await expect(readMetrics({ baseUrl: emulator.url, timeoutMs: 5_000 })).rejects.toMatchObject({
      name: 'ProbeHttpError',
      status: 404,
    });
  } finally {
    await emulator.close();
  }
});

test('parser: gauges, label filters, missing names, non-Prometheus text', () => {
  const families = parseMetricsText(
    [
      '# HELP sglang:token_usage The token usage.',
      '# TYPE sglang:token_usage gauge',
      'sglang:token_usage{model_name="glm-5.1",tp_rank="0"} 0.25',
      'sglang:token_usage{model_name="glm-5.1",tp_rank="1"} 0.5',
    ].join('\n'),
  );
  expect(readGauge(families, 'sglang:token_usage')).toBe(0.25);
  expect(readGauge(families, 'sglang:token_usage', { tp_rank: '1' })).toBe(0.5);
  expect(readGauge(families, 'sglang:token_usage', { tp_rank: '9' })).toBeUndefined();
  expect(readGauge(families, 'sglang:absent')).toBeUndefined();
  expect(missingMetrics(families)).toEqual(SGLANG_CORE_METRICS.filter((n) => n !== 'sglang:token_usage'));
  expect(parseMetricsText('<html>not metrics</html>').size).toBe(0);
});

test.each(['cpu/get_metrics_after.http.txt', 'gpu/get_metrics_after.http.txt'])(
  "parses the real SGLang 0.5.17 /metrics text (%s): SGLang's labels, split counters, histograms",
  (recording) => {
    const families = parseMetricsText(recordedBody(recording));
    expect(families.size).toBe(69);
    expect(missingMetrics(families)).toEqual([]);
    const scheduler = { model_name: 'glm-4.7', engine_type: 'unified', tp_rank: '0', pp_rank: '0', moe_ep_rank: '0' };
    expect(readGauge(families, 'sglang:num_running_reqs', scheduler)).toBe(0);
    expect(readGauge(families, 'sglang:context_len', scheduler)).toBe(4096);
    // 25 non-streaming + 16 streaming requests were recorded.
    expect(readTotal(families, 'sglang:num_requests_total', { model_name: 'glm-4.7' })).toBe(41);
    expect(readTotal(families, 'sglang:num_requests_total', { is_streaming: 'true' })).toBe(16);
    const itl = families.get('sglang:inter_token_latency_seconds')!;
    expect(itl.series).toEqual([
      expect.objectContaining({ labels: { engine_type: 'unified', model_name: 'glm-4.7' } }),
    ]);
    expect(itl.series[0]!.count).toBe(190);
    // A gauge may carry an `le` label of its own (SGLang's routing-key bands): kept as a label.
    const bands = families.get('sglang:routing_key_running_req_count')!;
    expect(bands.type).toBe('gauge');
    expect(bands.series.map((s) => s.labels.le)).toContain('+Inf');
  },
);
