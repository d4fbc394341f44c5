/**
 * Local platform scaling, the timings test/platforms/local/scaling.test.ts only asserts as states: how long
 * setMinContainers(n) takes to n ready engines, and how late after its scaledownWindow an idle engine is stopped.
 * Real platform daemon (in this process) and emulator engines (child processes, from lib/).
 *
 *   npm run bench -- local-scaling [--runs 5] [--engines 2] [--window 2]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliEntry, projectRoot } from '../src/config/paths';
import { startScratchPlatform } from '../src/platforms/local/scratch-platform';
import { parseSpecText } from '../src/spec/parse-spec';
import { machineLine, option, percentile } from './bench-stack';

const POLL_MS = 10;

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}

async function main(): Promise<void> {
  const runs = Number(option('runs', '5'));
  const engines = Number(option('engines', '2'));
  const windowS = Number(option('window', '2'));
  if (!fs.existsSync(cliEntry())) throw new Error(`${cliEntry()} is missing: run npm run setup first`);
  const platform = await startScratchPlatform({
    home: fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-bench-scaling-')),
    apiKey: 'sk-bench-scaling',
    timings: { stopGraceMs: 1_000, replaceDelayMs: 400, maxReplaceDelayMs: 2_000, tickMs: 50 },
  });
  const { client } = platform;
  const parsed = parseSpecText(fs.readFileSync(path.join(projectRoot(), 'examples', 'local-demo.yaml'), 'utf8'));
  if (!parsed.ok) throw new Error('examples/local-demo.yaml does not parse');
  const spec = parsed.spec;
  spec.app = 'bench-scaling';
  spec.local.timeScale = 0.001;
  spec.modal.maxContainers = engines;
  spec.modal.scaledownWindow = windowS;
  // The platform tests' engine: a 0.2 s weight load, no compile or graph capture.
  spec.local.emulator = {
    phases: { weightLoadMs: 200_000, deepGemmCompileMs: 0, graphCaptureMs: 0, healthGenerateMs: 0 },
  };
  const liveEngines = async () => (await client.status()).apps.find((a) => a.app === spec.app)?.engines ?? [];
  try {
    await client.deploy(spec, { rolloutId: 'bench-1' });
    const warmUpMs: number[] = [];
    const scaleDownLagMs: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      await client.setMinContainers(spec.app, engines);
      await until(async () => {
        const live = await liveEngines();
        return live.length === engines && live.every((e) => e.state === 'ready');
      });
      warmUpMs.push(performance.now() - started);
      // Released: the engines are idle since they became ready, so each is due once the window has passed.
      const releasedAt = performance.now();
      await client.setMinContainers(spec.app, 0);
      await until(async () => (await liveEngines()).length === 0);
      scaleDownLagMs.push(performance.now() - releasedAt);
    }
    const row = (name: string, values: number[]): string =>
      `| ${name} | ${percentile(values, 50).toFixed(0)} | ${percentile(values, 100).toFixed(0)} |`;
    console.log(`\n${machineLine()}; ${runs} runs, ${engines} engines, scaledownWindow ${windowS} s\n`);
    console.log('| measure | p50 (ms) | max (ms) |');
    console.log('|---|---:|---:|');
    console.log(row(`setMinContainers(${engines}) → ${engines} ready`, warmUpMs));
    console.log(row(`setMinContainers(0) → none (window ${windowS} s included)`, scaleDownLagMs));
  } finally {
    await platform.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
