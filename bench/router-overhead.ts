import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { cliEntry, projectRoot } from '../src/config/paths';
import { buildSglangArgv } from '../src/spec/argv-builder';
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';
import { engineCommand } from '../src/platforms/local/engine-command';
import { freePort } from '../src/net/free-port';
import { startScratchPlatform } from '../src/platforms/local/scratch-platform';

const REQUESTS = Number(process.argv[2] ?? 400);
const COLD_RUNS = Number(process.argv[3] ?? 5);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** One streaming chat through fetch: time to first chunk and to the end of the stream. */
async function streamOnce(url: string, apiKey: string): Promise<{ ttftMs: number; totalMs: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'glm-5.1',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 16,
      stream: true,
    }),
  });
  if (response.status !== 200 || !response.body) throw new Error(`chat answered ${response.status}`);
  let ttftMs = -1;
  for await (const _chunk of response.body) if (ttftMs < 0) ttftMs = performance.now() - started;
  return { ttftMs, totalMs: performance.now() - started };
}

async function waitHealthy(url: string, pollMs: number): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The engine's own load time: spawn the same command directly and poll /health every 5 ms. */
async function directLoadMs(spec: Spec, modelPath: string, kernelCacheDir: string, apiKey: string): Promise<number> {
  const port = await freePort();
  const argv = buildSglangArgv(spec, { modelPath, host: '127.0.0.1', port, apiKey });
  const command = engineCommand(spec, { sglangArgv: argv, kernelCacheDir });
  const started = performance.now();
  const child = spawn(command.file, command.args, { env: { ...process.env, ...command.env }, stdio: 'ignore' });
  await waitHealthy(`http://127.0.0.1:${port}`, 5);
  const loadMs = performance.now() - started;
  child.kill('SIGKILL');
  return loadMs;
}

async function main(): Promise<void> {
  if (!fs.existsSync(cliEntry())) throw new Error(`${cliEntry()} is missing: run npx tsc -p tsconfig.build.json first`);
  const platform = await startScratchPlatform({
    home: fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-bench-router-')),
    apiKey: 'sk-bench-router',
    timings: { stopGraceMs: 2_000, replaceDelayMs: 1_000, maxReplaceDelayMs: 5_000, tickMs: 100 },
  });
  const { apiKey, client, modelPath, kernelCacheDir } = platform;
  const parsed = parseSpecText(fs.readFileSync(path.join(projectRoot(), 'examples', 'local-demo.yaml'), 'utf8'));
  if (!parsed.ok) throw new Error('examples/local-demo.yaml does not parse');
  const spec = structuredClone(parsed.spec);
  spec.app = 'bench-router';
  spec.local.timeScale = 0.001;
  spec.health.startupTimeout = 10;
  spec.local.emulator = {
    phases: { weightLoadMs: 300_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
  };

  try {
    await client.deploy(spec, { rolloutId: 'bench-1' });
    const { url: routerUrl } = await client.endpoint(spec.app);
    await streamOnce(routerUrl, apiKey);
    const engine = (await client.status()).apps[0]!.engines[0]!;
    const directUrl = `http://127.0.0.1:${engine.port}`;
    for (let i = 0; i < 50; i += 1) {
      await streamOnce(directUrl, apiKey);
      await streamOnce(routerUrl, apiKey);
    }
    const direct: { ttftMs: number; totalMs: number }[] = [];
    const routed: { ttftMs: number; totalMs: number }[] = [];
    for (let i = 0; i < REQUESTS; i += 1) {
      // Alternate so drift in the engine affects both sides equally.
      direct.push(await streamOnce(directUrl, apiKey));
      routed.push(await streamOnce(routerUrl, apiKey));
    }

    const directLoads: number[] = [];
    const routerColdStarts: number[] = [];
    for (let i = 0; i < COLD_RUNS; i += 1) {
      directLoads.push(await directLoadMs(spec, modelPath, kernelCacheDir, apiKey));
      await client.stop(spec.app);
      await client.rollback(spec.app, 1);
      const started = performance.now();
      const response = await fetch(`${routerUrl}/health`);
      if (response.status !== 200) throw new Error(`cold start answered ${response.status}`);
      routerColdStarts.push(performance.now() - started);
    }

    const rows: string[] = [];
    const row = (name: string, d: number[], r: number[]): void => {
      for (const p of [50, 99]) {
        const dp = percentile(d, p);
        const rp = percentile(r, p);
        rows.push(`| ${name} p${p} | ${dp.toFixed(2)} | ${rp.toFixed(2)} | ${(rp - dp).toFixed(2)} |`);
      }
    };
    row(
      'streaming chat, time to first chunk',
      direct.map((x) => x.ttftMs),
      routed.map((x) => x.ttftMs),
    );
    row(
      'streaming chat, whole stream',
      direct.map((x) => x.totalMs),
      routed.map((x) => x.totalMs),
    );
    const directLoadP50 = percentile(directLoads, 50);
    const coldP50 = percentile(routerColdStarts, 50);
    rows.push(
      `| cold start to first 200 (p50 of ${COLD_RUNS}) | ${directLoadP50.toFixed(1)} | ${coldP50.toFixed(1)} | ${(coldP50 - directLoadP50).toFixed(1)} |`,
    );
    console.log(
      `Router overhead (${REQUESTS} sequential streaming chats each way, max_tokens 16, emulator at time scale ${spec.local.timeScale}; node ${process.version}, ${os.cpus().length} CPUs)\n`,
    );
    console.log('| measure | direct to engine (ms) | through router (ms) | added by router (ms) |');
    console.log('|---|---:|---:|---:|');
    for (const line of rows) console.log(line);
    fs.mkdirSync(path.join(projectRoot(), 'bench', 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(projectRoot(), 'bench', 'results', 'router-overhead.json'),
      JSON.stringify({ requests: REQUESTS, direct, routed, directLoads, routerColdStarts }, null, 2),
    );
  } finally {
    await platform.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
