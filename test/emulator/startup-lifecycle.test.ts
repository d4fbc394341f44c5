import * as net from 'node:net';
import { schedulerTag } from '../../src/emulator/emulator-log';
import { recordedLaunchArgv } from '../helpers/recorded-exchanges';
import { recordedExitCode, serverLines } from '../helpers/sglang-recordings';
import { chat, fastEnv, guideArgv, launch, launchReady, makeModelDir } from '../helpers/emulator-fixture';
import { waitFor } from '../helpers/wait-for';

// The emulator's start-up, shutdown and failure paths held to the recordings of the real SGLang 0.5.17 server
// (test/fixtures/sglang-real): line shapes, their order, what /health answers when, and how the process ends.

const TS = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] `;
const NUM = String.raw`[\d.]+`;
const LIST = String.raw`\[[\d, ]+\]`;

/** The recorded start-up lines of one GPU server, in order, each as its exact shape (numbers aside). */
const STARTUP_SHAPES: RegExp[] = [
  new RegExp(`^${TS}server_args=ServerArgs\\(`),
  new RegExp(`^${TS}Init torch distributed begin\\.$`),
  new RegExp(`^${TS}Load weight begin\\. avail mem=${NUM} GB$`),
  new RegExp(`^${TS}Load weight end\\. elapsed=${NUM} s, type=\\w+, avail mem=${NUM} GB, mem usage=${NUM} GB\\.$`),
  new RegExp(
    `^${TS}KV Cache is allocated\\. dtype: torch\\.bfloat16, #tokens: \\d+, K size: ${NUM} GB, V size: ${NUM} GB$`,
  ),
  new RegExp(`^${TS}Memory pool end\\. avail mem=${NUM} GB$`),
  new RegExp(
    `^${TS}Capture target prefill CUDA graph begin\\. backend=breakable, num_tokens=${LIST}, avail mem=${NUM} GB$`,
  ),
  new RegExp(
    `^${TS}Capture target prefill CUDA graph end\\. elapsed=${NUM} s, mem usage=${NUM} GB, avail mem=${NUM} GB\\.$`,
  ),
  new RegExp(
    `^${TS}Capture target decode CUDA graph begin\\. backend=full, num_tokens_per_req=1, bs=${LIST}, avail mem=${NUM} GB$`,
  ),
  new RegExp(
    `^${TS}Capture target decode CUDA graph end\\. elapsed=${NUM} s, mem usage=${NUM} GB, avail mem=${NUM} GB\\.$`,
  ),
  new RegExp(
    `^${TS}max_total_num_tokens=\\d+, chunked_prefill_size=\\d+, max_prefill_tokens=\\d+, max_running_requests=\\d+, context_len=\\d+, available_gpu_mem=${NUM} GB$`,
  ),
  new RegExp(`^${TS}Tree cache initialized: source=default impl=RadixCache `),
  new RegExp(
    `^${TS}Engine startup timings \\(s\\): load_weight=${NUM}, kv_cache_allocation=${NUM}, scheduler_e2e=${NUM}, cuda_graph=\\{prefill=${NUM}, decode=${NUM}, target_verify=${NUM}, draft_prefill=${NUM}, draft_decode=${NUM}, draft_extend=${NUM}\\}, tokenizer_e2e=${NUM}$`,
  ),
  new RegExp(`^${TS}INFO: {5}Started server process \\[\\d+\\]$`),
  new RegExp(`^${TS}INFO: {5}Waiting for application startup\\.$`),
  new RegExp(`^${TS}INFO: {5}Application startup complete\\.$`),
  new RegExp(`^${TS}INFO: {5}Uvicorn running on http://127\\.0\\.0\\.1:\\d+ \\(Press CTRL\\+C to quit\\)$`),
  new RegExp(`^${TS}INFO: {5}127\\.0\\.0\\.1:\\d+ - "GET /model_info HTTP/1\\.1" 200 OK$`),
  new RegExp(
    `^${TS}Prefill batch, #new-seq: 1, #new-token: 18, #cached-token: 0, token usage: ${NUM}, #running-req: 0, #queue-req: 0, #pending-token: 0, cuda graph: True, input throughput \\(token/s\\): ${NUM}$`,
  ),
  new RegExp(`^${TS}INFO: {5}127\\.0\\.0\\.1:\\d+ - "POST /generate HTTP/1\\.1" 200 OK$`),
  new RegExp(`^${TS}The server is fired up and ready to roll!$`),
];

/** Index of each shape's first matching line, in order (-1 where one is missing or out of order). */
function positionsInOrder(lines: string[], shapes: RegExp[]): number[] {
  const positions: number[] = [];
  let from = 0;
  for (const shape of shapes) {
    const at = lines.findIndex((line, i) => i >= from && shape.test(line));
    positions.push(at);
    if (at >= 0) from = at + 1;
  }
  return positions;
}

/** One GPU as in the recordings: served as glm-4.7, the recorded parsers, metrics on; default CUDA-graph settings. */
const singleGpuArgv = (extra: string[] = []): string[] => recordedLaunchArgv(makeModelDir(), extra);

const env = (config: Record<string, unknown> = {}, extra: NodeJS.ProcessEnv = {}) =>
  fastEnv(
    { phases: { weightLoadMs: 2_000, graphCaptureMs: 2_000, serverWarmupMs: 2_000 }, ...config },
    {
      GLM_OPS_EMULATOR_TIME_SCALE: '0.01',
      ...extra,
    },
  );

async function healthOutcome(url: string): Promise<string> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    return String(response.status);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED' ? 'refused' : 'no answer';
  }
}

describe('start-up as recorded', () => {
  test('the start-up lines come in the recorded order and shapes (GPU run with default CUDA-graph settings)', async () => {
    const recorded = serverLines('gpu/server_default_cudagraph.condensed.log');
    expect(positionsInOrder(recorded, STARTUP_SHAPES).every((at) => at >= 0)).toBe(true);
    const emulator = await launchReady(singleGpuArgv(), env());
    try {
      const positions = positionsInOrder(emulator.logs, STARTUP_SHAPES);
      expect(STARTUP_SHAPES.filter((_, i) => positions[i]! < 0).map(String)).toEqual([]);
      // The captured sizes are SGLang's default lists.
      const sizes = (lines: string[], shape: RegExp) =>
        /(?:num_tokens|bs)=(\[[\d, ]+\])/.exec(lines.find((l) => shape.test(l))!)![1];
      for (const shape of [STARTUP_SHAPES[6]!, STARTUP_SHAPES[8]!])
        expect(sizes(emulator.logs, shape)).toBe(sizes(recorded, shape));
    } finally {
      await emulator.close();
    }
  });

  test('the port is closed while loading, /health is an empty 503 only during the warm-up, then 200 (as recorded)', async () => {
    const emulator = await launch(singleGpuArgv(), env({ phases: { weightLoadMs: 2_000, serverWarmupMs: 20_000 } }));
    try {
      const seen: Array<{ outcome: string; logLines: number }> = [];
      let ready = false;
      void emulator.ready.then(() => (ready = true));
      while (!ready || seen.at(-1)?.outcome !== '200') {
        seen.push({ outcome: await healthOutcome(emulator.url), logLines: emulator.logs.length });
        await new Promise((r) => setTimeout(r, 5));
      }
      const phases = seen.map((s) => s.outcome).filter((o, i, all) => i === 0 || all[i - 1] !== o);
      expect(phases).toEqual(['refused', '503', '200']);
      const uvicornAt = emulator.logs.findIndex((l) => l.includes('Uvicorn running on'));
      const firedUpAt = emulator.logs.findIndex((l) => l.includes('The server is fired up and ready to roll!'));
      const first503 = seen.find((s) => s.outcome === '503')!;
      const first200 = seen.find((s) => s.outcome === '200')!;
      // No answer before uvicorn bound the port; no 200 before SGLang said it is ready.
      expect(first503.logLines).toBeGreaterThan(uvicornAt);
      expect(first200.logLines).toBeGreaterThan(firedUpAt);
      expect(seen.filter((s) => s.logLines <= uvicornAt).every((s) => s.outcome === 'refused')).toBe(true);
      const served = await fetch(`${emulator.url}/health`);
      expect([served.status, await served.text()]).toEqual([200, '']);
    } finally {
      await emulator.close();
    }
  });

  test("a port taken between the pick and the late bind is a start failure with uvicorn's error line, exit 1", async () => {
    const emulator = await launch(singleGpuArgv(), env({ phases: { weightLoadMs: 5_000 } }));
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(emulator.port, '127.0.0.1', resolve));
    try {
      const exit = await emulator.exited;
      expect(exit.exitCode).toBe(1);
      expect(emulator.logs.join('\n')).toMatch(
        new RegExp(
          `ERROR: {4}\\[Errno 98\\] error while attempting to bind on address \\('127\\.0\\.0\\.1', ${emulator.port}\\): address already in use`,
        ),
      );
      expect(emulator.logs.join('\n')).not.toContain('Uvicorn running');
    } finally {
      squatter.close();
      await emulator.close();
    }
  });

  test('--disable-cuda-graph captures nothing and logs what SGLang logs (recorded on CPU); batches run without graphs', async () => {
    const recordedLine = serverLines('cpu/server_main.condensed.log').find((l) =>
      l.includes('Disable prefill CUDA graph'),
    )!;
    const emulator = await launchReady(singleGpuArgv(['--disable-cuda-graph']), env());
    try {
      const logs = emulator.logs;
      expect(logs.some((l) => /Capture .* CUDA graph/.test(l))).toBe(false);
      const line = logs.find((l) => l.includes('Disable prefill CUDA graph'));
      expect(line?.replace(/^\[[^\]]+\] /, '')).toBe(recordedLine.replace(/^\[[^\]]+\] /, ''));
      expect(logs.find((l) => l.includes('Engine startup timings'))).toContain(
        'cuda_graph={prefill=0.00, decode=0.00, target_verify=0.00',
      );
      expect(logs.find((l) => l.includes('#new-token: 18'))).toContain('cuda graph: False');
    } finally {
      await emulator.close();
    }
  });

  test('scheduler lines carry TP/EP tags only with tp or ep > 1 (the single-GPU recordings have none)', async () => {
    expect(schedulerTag({ tp: 1, ep: 1 })).toBe('');
    expect(schedulerTag({ tp: 8, ep: 1 })).toBe(' TP0');
    expect(schedulerTag({ tp: 8, ep: 8 })).toBe(' TP0 EP0');
    expect(serverLines('gpu/server_main.condensed.log').find((l) => l.includes('Load weight begin'))).toMatch(
      new RegExp(`^${TS}Load`),
    );
    const emulator = await launchReady(guideArgv(makeModelDir()), env());
    try {
      expect(emulator.logs.find((l) => l.includes('Load weight begin'))).toMatch(
        /^\[[\d-]+ [\d:]+ TP0\] Load weight begin/,
      );
      expect(emulator.logs.find((l) => l.includes('fired up'))).toMatch(new RegExp(`^${TS}The server`));
    } finally {
      await emulator.close();
    }
  });
});

describe('shutdown and failures as recorded', () => {
  test('SIGTERM: the stream drains, new requests still served, /health 503 with the shutdown line, then -9', async () => {
    const recorded = serverLines('cpu/server_main.condensed.log');
    expect(recordedExitCode('cpu/server_main.condensed.log')).toBe(-9);
    const markers = [
      /SIGTERM received\. signum=None frame=None\. Draining requests and shutting down\.\.\./,
      /Health check request received during shutdown\. Returning 503\./,
      /Gracefully exiting\.\.\. Remaining number of requests [1-9]\d*\. Remaining requests remaining_rids=\['[0-9a-f]{32}'/,
      /Gracefully exiting\.\.\. Remaining number of requests 0\. Remaining requests remaining_rids=\[\]\./,
      /kill_process_tree called: parent_pid=\d+, include_parent=True, pid=\d+/,
    ];
    expect(positionsInOrder(recorded, markers).every((at) => at >= 0)).toBe(true);
    // Scaled so the stream (3000 tokens) outlasts the first 5 s drain report by seconds, however busy the machine is.
    const emulator = await launchReady(singleGpuArgv(), env({}, { GLM_OPS_EMULATOR_TIME_SCALE: '0.1' }));
    try {
      const inflight = streamText(emulator.url, 3_000);
      await waitFor(() => emulator.logs.some((l) => l.includes('"POST /v1/chat/completions HTTP/1.1" 200 OK')));
      emulator.terminate();
      const after = await chat(emulator.url, { messages: [{ role: 'user', content: 'after SIGTERM' }], max_tokens: 4 });
      expect(after.status).toBe(200);
      expect(await healthOutcome(emulator.url)).toBe('503');
      expect(await inflight).toContain('data: [DONE]');
      const exit = await emulator.exited;
      expect(exit.signal).toBe('SIGKILL');
      const positions = positionsInOrder(emulator.logs, markers);
      expect(markers.filter((_, i) => positions[i]! < 0).map(String)).toEqual([]);
      // Then the port refuses (a pooled keep-alive socket may first see the close itself).
      await waitFor(async () => (await healthOutcome(emulator.url)) === 'refused');
    } finally {
      await emulator.close();
    }
  });

  test('SIGTERM while still loading takes the default action (-15), as recorded mid-start-up', async () => {
    expect(recordedExitCode('gpu/fp8kv_eagle_run1_cut_at_70s.condensed.log')).toBe(-15);
    const emulator = await launch(singleGpuArgv(), env({ phases: { weightLoadMs: 600_000 } }));
    try {
      emulator.terminate();
      expect((await emulator.exited).signal).toBe('SIGTERM');
      expect(emulator.logs.join('\n')).not.toContain('SIGTERM received');
    } finally {
      await emulator.close();
    }
  });

  test('CUDA OOM at start-up (mem-fraction too high for the GPU): the recorded sequence, port never opened, -9', async () => {
    const run = 'gpu/fail_oom_mem_fraction_099.condensed.log';
    expect(recordedExitCode(run)).toBe(-9);
    const markers = [
      /KV Cache is allocated\. dtype: torch\.bfloat16/,
      /Memory pool end\. avail mem=/,
      /Scheduler hit an exception: Traceback \(most recent call last\):/,
      /^torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate [\d.]+ GiB\. GPU 0 has a total capacity of [\d.]+ GiB/,
      /Received sigquit from a child process\. It usually means the child failed\./,
      /kill_process_tree called: parent_pid=\d+, include_parent=True, pid=\d+/,
    ];
    expect(positionsInOrder(serverLines(run), markers).every((at) => at >= 0)).toBe(true);
    const emulator = await launch(singleGpuArgv(['--mem-fraction-static', '0.99']), env());
    try {
      expect((await emulator.exited).signal).toBe('SIGKILL');
      expect(markers.filter((_, i) => positionsInOrder(emulator.logs, markers)[i]! < 0).map(String)).toEqual([]);
      expect(emulator.logs.join('\n')).not.toContain('Uvicorn running');
      expect(await healthOutcome(emulator.url)).toBe('refused');
    } finally {
      await emulator.close();
    }
  });
});

async function streamText(url: string, maxTokens: number): Promise<string> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: 'a long answer' }],
      max_tokens: maxTokens,
      ignore_eos: true,
      stream: true,
    }),
  });
  return response.text();
}
