import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSglangArgv } from '../src/spec/argv-builder';
import { checkSpecText } from '../src/spec/check-spec';
import { estimateMonthlyCost } from '../src/spec/cost-model';
import { lintSpec } from '../src/spec/lint';
import { parseSpecText } from '../src/spec/parse-spec';
import { projectRoot } from '../src/config/paths';

/** Times the spec layer: parse, lint, check, argv and cost for the production example, after a warm-up. */
function measure(
  name: string,
  iterations: number,
  fn: () => unknown,
): { name: string; p50Ms: number; p95Ms: number; opsPerSec: number } {
  for (let i = 0; i < 50; i += 1) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const total = samples.reduce((sum, sample) => sum + sample, 0);
  return {
    name,
    p50Ms: samples[Math.floor(iterations * 0.5)]!,
    p95Ms: samples[Math.floor(iterations * 0.95)]!,
    opsPerSec: (iterations / total) * 1000,
  };
}

function main(): void {
  const text = fs.readFileSync(path.join(projectRoot(), 'examples', 'glm-5.1-b200.yaml'), 'utf8');
  const parsed = parseSpecText(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const spec = parsed.spec;
  const rows = [
    measure('parseSpecText', 500, () => parseSpecText(text)),
    measure('lintSpec (22 rules)', 500, () => lintSpec(spec)),
    measure('checkSpecText (parse + lint)', 500, () => checkSpecText(text)),
    measure('buildSglangArgv', 5000, () => buildSglangArgv(spec)),
    measure('estimateMonthlyCost', 500, () => estimateMonthlyCost(spec, { env: {} })),
  ];
  console.log('| Operation | p50 ms | p95 ms | ops/s |');
  console.log('|---|---:|---:|---:|');
  for (const row of rows)
    console.log(`| ${row.name} | ${row.p50Ms.toFixed(3)} | ${row.p95Ms.toFixed(3)} | ${row.opsPerSec.toFixed(0)} |`);
  const resultsDir = path.join(projectRoot(), 'bench', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(
    path.join(resultsDir, 'spec-check.json'),
    JSON.stringify({ at: new Date().toISOString(), rows }, null, 2),
  );
}

main();
