import { createChatCompletion } from '../../src/probes/chat-client';
import {
  missingMetrics,
  parseMetricsText,
  readGauge,
  readMetrics,
  SGLANG_CORE_METRICS,
} from '../../src/probes/metrics-reader';
import { startTestEmulator, TEST_API_KEY } from './emulator-fixture';

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
    expect(readGauge(snapshot.families, 'sglang:num_running_reqs', { model_name: 'glm-5.1' })).toBe(0);
    expect(readGauge(snapshot.families, 'sglang:num_requests_total')).toBe(1);
    const ttft = snapshot.families.get('sglang:time_to_first_token_seconds')!;
    expect(ttft.type).toBe('histogram');
    expect(ttft.series).toHaveLength(1);
    expect(ttft.series[0]).toMatchObject({ labels: { model_name: 'glm-5.1' }, count: 1 });
    expect(ttft.series[0]!.sum).toBeGreaterThan(0);
    expect(ttft.series[0]!.buckets!['+Inf']).toBe(1);
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
