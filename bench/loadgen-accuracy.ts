import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBenchDetailed } from '../src/loadgen';
import { buildSglangArgv } from '../src/spec/argv-builder';
import { parseSpecText } from '../src/spec/parse-spec';

// glm-ops bench's client (src/loadgen: undici pool, eventsource-parser) against the emulator at time scale 1: its
// TTFT/TPOT (bench_serving definitions) beside the model's own values the emulator reports per request
// (`emulator_timing`), at 1, 48, 150 and 500 concurrent streams, with every request decoding (max-running-requests
// = the concurrency) so the difference is the client and the wire, not queueing. Also the client's CPU use.

const OUTPUT_TOKENS = 128;
const INPUT_TOKENS = 256;

interface ModelTiming {
  ttft_ms: number;
  tpot_ms: number;
  arrival_epoch_ms: number;
  first_write_epoch_ms: number;
  first_token_late_ms: number;
  /** The first write carrying output: bench_serving's TTFT ends at its arrival, not at a swallowed `<think>`. */
  first_output_epoch_ms: number;
}

async function main(): Promise<void> {
  const levels = (process.argv[2] ?? '1,48,150,500').split(',').map(Number);
  const rows: string[] = [];
  for (const level of levels) {
    const emulator = await startChild(level);
    try {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const run = await runBenchDetailed({
        baseUrl: emulator.url,
        model: 'glm-5.1',
        dataset: { name: 'random', inputLen: INPUT_TOKENS, outputLen: OUTPUT_TOKENS, rangeRatio: 1 },
        numPrompts: level,
        maxConcurrency: level,
        // One warm-up request per stream: every connection is open before the measured run, so its TTFT holds no TCP connects.
        warmupRequests: level,
      });
      const wallMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const ok = run.records.filter((r) => r.success && r.serverTiming);
      const model = ok.map((r) => r.serverTiming as ModelTiming);
      const ttft = mean(ok.map((r) => r.ttft * 1000));
      // The server's TTFT as bench_serving defines it: arrival → the first chunk with output in it. SGLang's own
      // first token (the model's ttft_ms) is one verify step earlier when it is a tag the parsers swallow.
      const serverTtft = mean(model.map((m) => m.first_output_epoch_ms - m.arrival_epoch_ms));
      const modelTtft = mean(model.map((m) => m.ttft_ms));
      const tpot = mean(ok.map((r) => ((r.latency - r.ttft) / (r.outputTokens - 1)) * 1000));
      const modelTpot = mean(model.map((m) => m.tpot_ms));
      const cpuMs = (cpu.user + cpu.system) / 1000;
      // Where ΔTTFT goes (both processes read the same wall clock): the request on its way in (client send → the
      // emulator's arrival stamp) and the first output chunk on its way out (the emulator's write → the client's parse).
      const sendEpochMs = ok.map((r) => performance.timeOrigin + r.startTime * 1000);
      const inbound = mean(model.map((m, i) => m.arrival_epoch_ms - sendEpochMs[i]!));
      const outbound = mean(model.map((m, i) => sendEpochMs[i]! + ok[i]!.ttft * 1000 - m.first_output_epoch_ms));
      rows.push(
        `| ${level} | ${ok.length}/${level} | ${ttft.toFixed(1)} / ${serverTtft.toFixed(1)} | ${(ttft - serverTtft).toFixed(2)} | ` +
          `${inbound.toFixed(2)} | ${outbound.toFixed(2)} | ${modelTtft.toFixed(1)} | ` +
          `${tpot.toFixed(2)} / ${modelTpot.toFixed(2)} | ${(tpot - modelTpot).toFixed(3)} | ${cpuMs.toFixed(0)} | ` +
          `${((100 * cpuMs) / wallMs).toFixed(0)}% | ${((cpuMs / Math.max(1, run.summary.total_output_tokens)) * 1000).toFixed(1)} |`,
      );
    } finally {
      emulator.child.kill('SIGKILL');
    }
  }
  console.log(
    '\n| streams | ok | TTFT client / server (ms) | ΔTTFT | of it: send → arrival | first output write → client | model first token (ms) | TPOT client / model (ms) | ΔTPOT | client CPU (ms) | client CPU (% of wall) | client CPU per 1k tokens (ms) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  console.log(
    `\n${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

async function startChild(slots: number): Promise<{ url: string; child: ChildProcess }> {
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-model-'));
  fs.writeFileSync(path.join(modelDir, 'config.json'), '{}');
  const kernels = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-bench-dg-'));
  fs.writeFileSync(path.join(kernels, 'manifest.json'), JSON.stringify({ smArch: 'sm100' }));
  const entry = path.join(__dirname, '..', 'src', 'emulator', 'run-emulator-process.js');
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

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
