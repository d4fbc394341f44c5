import { TimingModel } from '../../src/emulator/emulator-config';
import { simulateLoad } from '../../src/emulator/load-simulation';
import { measureStreamingChat } from '../../src/probes/stream-timing';
import {
  fastEnv,
  guideArgv,
  launch,
  launchReady,
  makeModelDir,
  metricValue,
  withFlag,
  withoutFlag,
} from '../helpers/emulator-fixture';
import { waitFor } from '../helpers/wait-for';

// The KV pool over HTTP: sized from the GPU's memory, the weights and --mem-fraction-static, capped by
// --max-total-tokens, and admission waiting for KV room. Every wait is for an observed state, never a duration.
const planned = (extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  fastEnv(
    // Requests at five times the guide's durations: 120 tokens take ~5 s, long enough to be seen in flight.
    {
      phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0 },
      reportTiming: true,
      timing: { timeScale: 5 },
      ...extra,
    },
    env,
  );
const body = (content: string, maxTokens: number) => ({
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
  ignore_eos: true,
  chat_template_kwargs: { enable_thinking: false },
});
type Plan = { running: number; queue_ms: number; ttft_ms: number };
const scrape = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    running: metricValue(text, 'sglang:num_running_reqs'),
    queued: metricValue(text, 'sglang:num_queue_reqs'),
    maxTotal: metricValue(text, 'sglang:max_total_num_tokens'),
    contextLength: metricValue(text, 'sglang:context_len'),
  };
};
const poolLine = (logs: string[]) => logs.find((l) => l.includes('KV Cache is allocated'));
const tokensIn = (line: string | undefined) => Number(/#tokens: (\d+)/.exec(line ?? '')?.[1]);

describe('KV pool and admission (live emulator)', () => {
  test('a small --max-total-tokens queues requests while decode slots are free; a large one runs them all', async () => {
    // Each request reserves its prompt (~17 tokens) + 120: a 300-token pool holds two of four; 48 slots hold all.
    const small = await launchReady(withFlag(guideArgv(makeModelDir()), '--max-total-tokens', '300'), planned());
    try {
      expect(tokensIn(poolLine(small.logs))).toBe(300);
      const requests = Array.from({ length: 4 }, (_, i) =>
        measureStreamingChat({ baseUrl: small.url, body: body(`q${i}`, 120) }),
      );
      await waitFor(async () => (await scrape(small.url)).queued === 2, { what: 'two requests waiting for KV' });
      // The pool is not the context length (recorded: context_len 4096 beside a pool of 8192): GLM-5.1's 202752.
      expect(await scrape(small.url)).toMatchObject({ running: 2, maxTotal: 300, contextLength: 202_752 });
      expect(small.logs.some((l) => /max_total_num_tokens=300, .*context_len=202752,/.test(l))).toBe(true);
      const results = await Promise.all(requests);
      const plans = results.map((r) => r.finalChunkExtras.emulator_timing as Plan);
      expect(Math.max(...plans.map((p) => p.running))).toBe(2);
      // The offline model admits the same: simulateLoad with this pool and these requests runs two at once.
      const model = simulateLoad({
        constants: TimingModel.parse({}),
        maxRunningRequests: 48,
        isSpeculative: true,
        kvPoolTokens: 300,
        concurrency: 4,
        numPrompts: 4,
        promptTokens: Math.max(...results.map((r) => r.promptTokens ?? 0)),
        outputTokens: 120,
      }).figures;
      expect(model).toMatchObject({ peakRunning: 2, queuedRequests: 2, kvLimitedRequests: 2 });
      const waited = plans.filter((p) => p.queue_ms > 0);
      expect(waited.length).toBeGreaterThanOrEqual(2);
      // The wait for KV is part of their TTFT.
      for (const p of waited) expect(p.ttft_ms).toBeGreaterThan(p.queue_ms);
    } finally {
      await small.close();
    }

    const large = await launchReady(withFlag(guideArgv(makeModelDir()), '--max-total-tokens', '65536'), planned());
    try {
      const requests = Array.from({ length: 4 }, (_, i) =>
        measureStreamingChat({ baseUrl: large.url, body: body(`q${i}`, 120) }),
      );
      await waitFor(async () => (await scrape(large.url)).running === 4, { what: 'four requests decoding' });
      expect((await scrape(large.url)).queued).toBe(0);
      const plans = (await Promise.all(requests)).map((r) => r.finalChunkExtras.emulator_timing as Plan);
      expect(Math.max(...plans.map((p) => p.running))).toBe(4);
    } finally {
      await large.close();
    }
  });

  test('without --max-total-tokens the pool is what memory leaves: B200 at 0.88 > H200 at 0.83, as logged and served', async () => {
    const argv = (fraction: string) =>
      withFlag(withoutFlag(guideArgv(makeModelDir()), '--max-total-tokens'), '--mem-fraction-static', fraction);
    const sizes: number[] = [];
    for (const [gpu, fraction] of [
      ['B200', '0.88'],
      ['H200', '0.83'],
    ] as const) {
      // The spec's 700 GB checkpoint stands in for the small fixture, as the local platform passes it.
      const emulator = await launchReady(argv(fraction), planned({ weightsGB: 700 }, { GLM_OPS_EMULATOR_GPU: gpu }));
      try {
        const logged = tokensIn(poolLine(emulator.logs));
        const info = (await (await fetch(`${emulator.url}/server_info`)).json()) as {
          max_total_num_tokens: number;
          internal_states: Array<{ memory_usage: { token_capacity: number } }>;
        };
        expect(info.max_total_num_tokens).toBe(logged);
        expect(info.internal_states[0]?.memory_usage.token_capacity).toBe(logged);
        expect((await scrape(emulator.url)).maxTotal).toBe(logged);
        expect(emulator.logs.some((l) => l.includes(`max_total_num_tokens=${logged},`))).toBe(true);
        sizes.push(logged);
      } finally {
        await emulator.close();
      }
    }
    const [b200, h200] = sizes as [number, number];
    // 8 × B200 at 0.88 leaves ~71 GiB a GPU for KV after 81.5 GiB of weights; 8 × H200 at 0.83 ~24 GiB.
    expect(b200).toBeGreaterThan(700_000);
    expect(h200).toBeLessThan(b200 / 2.5);
  });

  test('--max-total-tokens above what memory allows: SGLang’s warning, and the profiled value is used', async () => {
    const argv = withFlag(guideArgv(makeModelDir()), '--max-total-tokens', '20000000');
    const emulator = await launchReady(argv, planned({ weightsGB: 700 }));
    try {
      const warning = emulator.logs.find((l) => l.includes('max_total_tokens=20000000 is larger than the profiled'));
      expect(warning).toMatch(/is larger than the profiled value (\d+)\. Use the profiled value instead\.$/);
      const profiled = Number(/profiled value (\d+)/.exec(warning ?? '')?.[1]);
      expect(tokensIn(poolLine(emulator.logs))).toBe(profiled);
    } finally {
      await emulator.close();
    }
  });

  test('weights that leave no KV room fail the load with SGLang’s “Not enough memory” (-9, port never opened)', async () => {
    const argv = withFlag(withFlag(guideArgv(makeModelDir()), '--tp', '4'), '--mem-fraction-static', '0.88');
    const emulator = await launch(argv, planned({ weightsGB: 700 }));
    const exit = await emulator.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(emulator.logs.join('\n')).toContain(
      'RuntimeError: Not enough memory. Please try to increase --mem-fraction-static. Current value: mem_fraction_static=0.88',
    );
    expect(emulator.logs.some((l) => l.includes('Uvicorn running on'))).toBe(false);
  });
});
