import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { measureStreamingChat, type StreamTimingResult } from '../src/probes/stream-timing';
import { buildSglangArgv } from '../src/spec/argv-builder';
import { parseSpecText } from '../src/spec/parse-spec';

// Streams N concurrent EAGLE-timed requests at the emulator (a child process, time scale 1) and compares the
// client-measured TTFT/TPOT (bench_serving definitions) with the model's value the emulator reports per request.

const OUTPUT_TOKENS = 128;
const TTFT_TOLERANCE_MS = 5;
const TPOT_TOLERANCE_MS = 2;
// Requests start this far apart (150 requests = a 150 ms ramp); 0 = one burst, where the single-threaded
// accept path of client and server serialises ~0.3 ms per request into TTFT.
const RAMP_STEP_MS = 1;

interface Timing {
  ttft_ms: number;
  tpot_ms: number;
  first_token_late_ms: number;
  arrival_epoch_ms: number;
}

interface Row {
  concurrency: number;
  slots: number;
  rampMs: number;
  ok: number;
  measuredTtftMs: number;
  modelTtftMs: number;
  measuredTpotMs: number;
  modelTpotMs: number;
  /** Client send → server arrival (cross-process epoch stamps): time the request waits before the engine sees it. */
  pickupMs: number;
  /** How late the emulator wrote the first token against its own plan. */
  firstWriteLateMs: number;
  emulatorCpuPct: number;
  clientCpuPct: number;
  wallS: number;
  isAccurate: boolean;
}

async function main(): Promise<void> {
  // Guide settings (--max-running-requests 48, the rest queue) at rising concurrency, then every request decoding.
  const levels = (process.argv[2] ?? '150,300,500').split(',').map(Number);
  const allDecoding = (process.argv[3] ?? '1,48,150').split(',').map(Number);
  const rows: Row[] = [];
  rows.push(await runLevel(150, 48, 0));
  for (const level of levels) rows.push(await runLevel(level, 48, RAMP_STEP_MS));
  for (const level of allDecoding) rows.push(await runLevel(level, level, RAMP_STEP_MS));
  const accurateAt = (slots: (r: Row) => boolean) =>
    Math.max(0, ...rows.filter((r) => slots(r) && r.rampMs > 0 && r.isAccurate).map((r) => r.concurrency));
  console.log(
    '\n| concurrency | max-running-requests | start ramp (ms) | ok | TTFT measured / model (ms) | ΔTTFT | TPOT measured / model (ms) | ΔTPOT | within ±5 / ±2 ms | request pickup (ms) | 1st-token write late (ms) | emulator CPU | client CPU | wall (s) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.concurrency} | ${r.slots} | ${r.rampMs} | ${r.ok} | ${r.measuredTtftMs.toFixed(1)} / ${r.modelTtftMs.toFixed(1)} | ${(r.measuredTtftMs - r.modelTtftMs).toFixed(2)} | ` +
        `${r.measuredTpotMs.toFixed(2)} / ${r.modelTpotMs.toFixed(2)} | ${(r.measuredTpotMs - r.modelTpotMs).toFixed(3)} | ${r.isAccurate ? 'yes' : 'no'} | ${r.pickupMs.toFixed(1)} | ${r.firstWriteLateMs.toFixed(2)} | ` +
        `${r.emulatorCpuPct.toFixed(0)}% | ${r.clientCpuPct.toFixed(0)}% | ${r.wallS.toFixed(2)} |`,
    );
  }
  console.log(
    `\nLargest concurrency within ±${TTFT_TOLERANCE_MS} ms TTFT / ±${TPOT_TOLERANCE_MS} ms TPOT: ${accurateAt((r) => r.slots === 48)} ` +
      `with --max-running-requests 48; ${accurateAt((r) => r.slots === r.concurrency)} with every request decoding; ${os.cpus().length} cores.`,
  );
  fs.mkdirSync(path.join(__dirname, '..', '..', 'bench', 'results'), { recursive: true });
  fs.writeFileSync(
    path.join(__dirname, '..', '..', 'bench', 'results', 'emulator-timing.json'),
    JSON.stringify(rows, null, 2),
  );
}

async function runLevel(concurrency: number, slots: number, rampStepMs: number): Promise<Row> {
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
    const results = await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        if (rampStepMs > 0) await new Promise((r) => setTimeout(r, i * rampStepMs));
        return measureStreamingChat({
          baseUrl: emulator.url,
          body: requestBody(`request ${i} of ${concurrency}`, OUTPUT_TOKENS),
        });
      }),
    );
    const wallMs = performance.now() - started;
    const cpuMs = readCpuMs(emulator.child.pid as number) - cpuBefore;
    const client = process.cpuUsage(clientBefore);
    const ok = results.filter((r) => r.isOk);
    const model = ok.map((r) => r.finalChunkExtras.emulator_timing as Timing);
    const row: Row = {
      concurrency,
      slots,
      rampMs: rampStepMs * (concurrency - 1),
      ok: ok.length,
      measuredTtftMs: mean(ok.map((r) => r.ttftMs)),
      modelTtftMs: mean(model.map((m) => m.ttft_ms)),
      measuredTpotMs: mean(ok.map((r) => r.tpotMs ?? 0)),
      modelTpotMs: mean(model.map((m) => m.tpot_ms)),
      pickupMs: mean(ok.map((r, i) => (model[i] as Timing).arrival_epoch_ms - (r.sentAtEpochMs ?? 0))),
      firstWriteLateMs: mean(model.map((m) => m.first_token_late_ms)),
      emulatorCpuPct: (100 * cpuMs) / wallMs,
      clientCpuPct: (100 * (client.user + client.system)) / 1000 / wallMs,
      wallS: wallMs / 1000,
      isAccurate: false,
    };
    row.isAccurate =
      row.ok === concurrency &&
      Math.abs(row.measuredTtftMs - row.modelTtftMs) <= TTFT_TOLERANCE_MS &&
      Math.abs(row.measuredTpotMs - row.modelTpotMs) <= TPOT_TOLERANCE_MS;
    logFailures(results);
    return row;
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

async function startChild(slots: number): Promise<{ url: string; child: ChildProcess }> {
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-model-'));
  fs.writeFileSync(path.join(modelDir, 'config.json'), '{}');
  const kernels = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-dg-'));
  fs.writeFileSync(path.join(kernels, 'manifest.json'), JSON.stringify({ smArch: 'sm100' }));
  const entry = path.join(__dirname, '..', 'src', 'emulator', 'run-emulator-process.js');
  // The argv glm-ops renders for the guide's production spec, with this level's decode slots and a free port.
  const parsed = parseSpecText(
    fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'glm-5.1-b200.yaml'), 'utf8'),
  );
  if (!parsed.ok) throw new Error('examples/glm-5.1-b200.yaml does not parse');
  parsed.spec.sglang.args['max-running-requests'] = slots;
  const argv = buildSglangArgv(parsed.spec, { modelPath: modelDir, host: '127.0.0.1' });
  argv[argv.indexOf('--port') + 1] = '0';
  const child = spawn(
    process.execPath,
    ['-e', `require(${JSON.stringify(entry)}).runEmulatorProcess(process.argv.slice(1))`, '--', ...argv],
    {
      env: {
        ...process.env,
        GLM_OPS_EMULATOR_TIME_SCALE: '1',
        GLM_OPS_EMULATOR_SGLANG_IMAGE: parsed.spec.sglang.image,
        SGLANG_DG_CACHE_DIR: kernels,
        GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify({
          phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0 },
          reportTiming: true,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer): void => {
      output += data.toString();
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
