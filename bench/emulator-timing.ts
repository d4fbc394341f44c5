import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TimingModel } from '../src/emulator/emulator-config';
import { engineCapacity } from '../src/emulator/engine-capacity';
import { parseEngineArgv } from '../src/emulator/engine-args';
import { lookupEmulatedGpu } from '../src/emulator/gpu-table';
import { percentile, simulateLoad, type LoadFigures } from '../src/emulator/load-simulation';
import { measureStreamingChat, type StreamTimingResult } from '../src/probes/stream-timing';
import { buildSglangArgv } from '../src/spec/argv-builder';
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';

// The emulator's load curve: a closed loop of N users (bench_serving --max-concurrency N) against the emulator in a
// child process at time scale 1, for the demo spec's flags (max-running-requests 48) and the same with 96. Each row
// shows three views of one load: what the client measured (bench_serving definitions, src/probes/stream-timing.ts),
// what the emulator planned per request (`reportTiming`), and the timing model run without a server
// (src/emulator/load-simulation.ts).

const OUTPUT_TOKENS = 128;
// ≈ 1,000 prompt tokens at the emulator's 4 characters per token: the guide's ~246 ms TTFT (§10).
const PROMPT = 'Summarise the serving health of the cluster. '.repeat(88);
const PROMPT_TOKENS = Math.ceil((PROMPT.length + 16) / 4);
const SLO_TTFT_P95_MS = 300;

interface Plan {
  ttft_ms: number;
  tpot_ms: number;
  running: number;
  queue_ms: number;
  slot_wait_ms: number;
  verify_wait_ms: number;
  first_token_late_ms: number;
  arrival_epoch_ms: number;
}

interface Row {
  slots: number;
  concurrency: number;
  ok: number;
  measured: { ttftP50: number; ttftP95: number; tpotP50: number; outputTokPerS: number };
  planned: { ttftP50: number; ttftP95: number; tpotP50: number; peakRunning: number; queued: number };
  model: LoadFigures;
  /** Mean of client TTFT − the emulator's planned TTFT: pickup, first-write lateness and the client's own overhead. */
  clientTtftErrorMs: number;
  /** p95 of how late the emulator wrote first tokens against its own plan (its event loop's lag). */
  firstWriteLateP95Ms: number;
  emulatorCpuPct: number;
  clientCpuPct: number;
  wallS: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const levels = (args[0] ?? '1,16,48,96,150').split(',').map(Number);
  const slotsList = (args[1] ?? '48,96').split(',').map(Number);
  printModelCurve(levels, slotsList);
  if (process.argv.includes('--model-only')) return;
  const rows: Row[] = [];
  for (const slots of slotsList) for (const level of levels) rows.push(await runLevel(slots, level));
  const cpu = os.cpus();
  console.log(
    `\n${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${OUTPUT_TOKENS} output tokens (ignore_eos), ~${PROMPT_TOKENS} prompt tokens, EAGLE, time scale 1`,
  );
  console.log(
    '\n| max-running-requests | concurrency | requests | TTFT p50 measured / planned / model (ms) | TTFT p95 measured / planned / model (ms) | TPOT p50 measured / planned / model (ms) | output tok/s measured / model | per-user tok/s | aggregate decode tok/s | peak running | queued | client − plan TTFT (ms) | 1st write late p95 (ms) | emulator CPU | client CPU | wall (s) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const trio = (a: number, b: number, c: number, digits: number) =>
      `${a.toFixed(digits)} / ${b.toFixed(digits)} / ${c.toFixed(digits)}`;
    console.log(
      `| ${r.slots} | ${r.concurrency} | ${r.ok} | ${trio(r.measured.ttftP50, r.planned.ttftP50, r.model.ttftP50Ms, 0)} | ` +
        `${trio(r.measured.ttftP95, r.planned.ttftP95, r.model.ttftP95Ms, 0)} | ` +
        `${trio(r.measured.tpotP50, r.planned.tpotP50, r.model.tpotP50Ms, 2)} | ` +
        `${r.measured.outputTokPerS.toFixed(0)} / ${r.model.outputTokPerS.toFixed(0)} | ${r.model.perUserTokPerS.toFixed(0)} | ` +
        `${r.model.aggregateDecodeTokPerS.toFixed(0)} | ${r.planned.peakRunning} | ${r.planned.queued} | ` +
        `${r.clientTtftErrorMs.toFixed(1)} | ${r.firstWriteLateP95Ms.toFixed(1)} | ${r.emulatorCpuPct.toFixed(0)}% | ${r.clientCpuPct.toFixed(0)}% | ${r.wallS.toFixed(1)} |`,
    );
  }
  for (const [slots, concurrency] of [
    [48, 48],
    [96, 96],
  ] as const) {
    const row = rows.find((r) => r.slots === slots && r.concurrency === concurrency);
    if (!row) continue;
    const verdict = (ms: number) => (ms <= SLO_TTFT_P95_MS ? 'pass' : 'fail');
    console.log(
      `\nmax-running-requests ${slots}, ${concurrency} users, TTFT p95 ≤ ${SLO_TTFT_P95_MS} ms: measured ${row.measured.ttftP95.toFixed(0)} ms ` +
        `(${verdict(row.measured.ttftP95)}), model ${row.model.ttftP95Ms.toFixed(0)} ms (${verdict(row.model.ttftP95Ms)})`,
    );
  }
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'emulator-timing.json'), JSON.stringify(rows, null, 2));
}

/** The timing model's curve without a server (machine-independent): what the HTTP rows should approach. */
function printModelCurve(levels: number[], slotsList: number[]): void {
  console.log(
    `\nModel (simulateLoad; ${OUTPUT_TOKENS} output tokens, ~${PROMPT_TOKENS} prompt tokens, 3 × concurrency requests, ` +
      `KV pool ${demoPoolTokens()} tokens as the demo spec sizes it):\n`,
  );
  console.log(
    '| max-running-requests | decoding | concurrency | TTFT p50 (ms) | TTFT p95 (ms) | TPOT p50 (ms) | per-user tok/s | output tok/s | aggregate decode tok/s | peak running | queued | waited for KV | TTFT p95 ≤ 300 ms |',
  );
  console.log('|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|');
  for (const isSpeculative of [true, false]) {
    for (const slots of slotsList) {
      for (const concurrency of levels) {
        const f = simulateLoad({
          constants: TimingModel.parse({}),
          maxRunningRequests: slots,
          isSpeculative,
          concurrency,
          numPrompts: Math.max(32, concurrency * 3),
          promptTokens: PROMPT_TOKENS + 1,
          outputTokens: OUTPUT_TOKENS,
          kvPoolTokens: demoPoolTokens(),
        }).figures;
        console.log(
          `| ${slots} | ${isSpeculative ? 'EAGLE' : 'plain'} | ${concurrency} | ${f.ttftP50Ms.toFixed(0)} | ${f.ttftP95Ms.toFixed(0)} | ` +
            `${f.tpotP50Ms.toFixed(2)} | ${f.perUserTokPerS.toFixed(0)} | ${f.outputTokPerS.toFixed(0)} | ` +
            `${f.aggregateDecodeTokPerS.toFixed(0)} | ${f.peakRunning} | ${f.queuedRequests} | ${f.kvLimitedRequests} | ` +
            `${f.ttftP95Ms <= SLO_TTFT_P95_MS ? 'pass' : 'fail'} |`,
        );
      }
    }
  }
}

async function runLevel(slots: number, concurrency: number): Promise<Row> {
  // Enough requests for the loop to reach its steady state (every user past its first request).
  const numPrompts = Math.max(32, concurrency * 3);
  const emulator = await startChild(slots);
  try {
    // Warm both sides (connections, JIT) as bench_serving's --warmup-requests does.
    await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        measureStreamingChat({ baseUrl: emulator.url, body: requestBody(`warmup ${i}`, 4) }),
      ),
    );
    const cpuBefore = readCpuMs(emulator.child.pid as number);
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const results: StreamTimingResult[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < numPrompts) {
          const index = next++;
          results.push(
            await measureStreamingChat({
              baseUrl: emulator.url,
              body: requestBody(`${index} ${PROMPT}`, OUTPUT_TOKENS),
            }),
          );
        }
      }),
    );
    const wallMs = performance.now() - started;
    const cpuMs = readCpuMs(emulator.child.pid as number) - cpuBefore;
    const client = process.cpuUsage(clientBefore);
    const ok = results.filter((r) => r.isOk);
    logFailures(results);
    const plans = ok.map((r) => r.finalChunkExtras.emulator_timing as Plan);
    const model = simulateLoad({
      constants: TimingModel.parse({}),
      maxRunningRequests: slots,
      isSpeculative: true,
      concurrency,
      numPrompts,
      promptTokens: PROMPT_TOKENS + 1,
      outputTokens: OUTPUT_TOKENS,
      kvPoolTokens: demoPoolTokens(),
    }).figures;
    return {
      slots,
      concurrency,
      ok: ok.length,
      measured: {
        ttftP50: percentile(
          ok.map((r) => r.ttftMs),
          50,
        ),
        ttftP95: percentile(
          ok.map((r) => r.ttftMs),
          95,
        ),
        tpotP50: percentile(
          ok.map((r) => r.tpotMs ?? 0),
          50,
        ),
        outputTokPerS: (ok.reduce((sum, r) => sum + r.outputTokens, 0) * 1000) / wallMs,
      },
      planned: {
        ttftP50: percentile(
          plans.map((p) => p.ttft_ms),
          50,
        ),
        ttftP95: percentile(
          plans.map((p) => p.ttft_ms),
          95,
        ),
        tpotP50: percentile(
          plans.map((p) => p.tpot_ms),
          50,
        ),
        peakRunning: Math.max(0, ...plans.map((p) => p.running)),
        queued: plans.filter((p) => p.slot_wait_ms > 0).length,
      },
      model,
      clientTtftErrorMs: mean(ok.map((r, i) => r.ttftMs - (plans[i] as Plan).ttft_ms)),
      firstWriteLateP95Ms: percentile(
        plans.map((p) => p.first_token_late_ms),
        95,
      ),
      emulatorCpuPct: (100 * cpuMs) / wallMs,
      clientCpuPct: (100 * (client.user + client.system)) / 1000 / wallMs,
      wallS: wallMs / 1000,
    };
  } finally {
    emulator.child.kill('SIGKILL');
  }
}

function requestBody(content: string, maxTokens: number): Record<string, unknown> {
  return {
    model: 'glm-5.1',
    messages: [{ role: 'user', content }],
    max_tokens: maxTokens,
    ignore_eos: true,
    chat_template_kwargs: { enable_thinking: false },
  };
}

/** The demo spec as the local platform launches it. */
function demoSpec(): Spec {
  const parsed = parseSpecText(
    fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'local-demo.yaml'), 'utf8'),
  );
  if (!parsed.ok) throw new Error('examples/local-demo.yaml does not parse');
  return parsed.spec;
}

/** The KV pool the demo's engine sizes (its --max-total-tokens 65536 caps what 8 × B200 leave): the model's too. */
function demoPoolTokens(): number {
  const spec = demoSpec();
  const { args } = parseEngineArgv(buildSglangArgv(spec, { modelPath: '/models/demo', host: '127.0.0.1' }), {
    env: { GLM_OPS_EMULATOR_SGLANG_IMAGE: spec.sglang.image },
  });
  const gpu = lookupEmulatedGpu(spec.gpu.type);
  if (!gpu) throw new Error(`unknown GPU ${spec.gpu.type}`);
  return engineCapacity(args, gpu, (spec.model.weightsGB * 1e9) / 2 ** 30).poolTokens;
}

async function startChild(slots: number): Promise<{ url: string; child: ChildProcess }> {
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-model-'));
  fs.writeFileSync(path.join(modelDir, 'config.json'), '{}');
  const kernels = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-dg-'));
  fs.writeFileSync(path.join(kernels, 'manifest.json'), JSON.stringify({ smArch: 'sm100' }));
  const entry = path.join(__dirname, '..', 'src', 'emulator', 'run-emulator-process.js');
  // The argv glm-ops renders for the demo spec, with this run's decode slots and a free port.
  const spec = demoSpec();
  spec.sglang.args['max-running-requests'] = slots;
  const argv = buildSglangArgv(spec, { modelPath: modelDir, host: '127.0.0.1' });
  argv[argv.indexOf('--port') + 1] = '0';
  const child = spawn(
    process.execPath,
    ['-e', `require(${JSON.stringify(entry)}).runEmulatorProcess(process.argv.slice(1))`, '--', ...argv],
    {
      env: {
        ...process.env,
        GLM_OPS_EMULATOR_TIME_SCALE: '1',
        GLM_OPS_EMULATOR_SGLANG_IMAGE: spec.sglang.image,
        SGLANG_DG_CACHE_DIR: kernels,
        GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify({
          phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0 },
          reportTiming: true,
          weightsGB: spec.model.weightsGB,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer): void => {
      output += data.toString();
      // Keep only the tail: the access log grows with every request.
      if (output.length > 65_536) output = output.slice(-16_384);
      const match = /Uvicorn running on (http:\/\/\S+)/.exec(output);
      if (match && output.includes('ready to roll')) resolve(match[1] as string);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`emulator exited (${code ?? signal}):\n${output}`)));
  });
  return { url, child };
}

function readCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function logFailures(results: StreamTimingResult[]): void {
  const failed = results.filter((r) => !r.isOk);
  if (failed.length > 0) console.error(`${failed.length} requests failed, e.g. ${failed[0]?.error}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
