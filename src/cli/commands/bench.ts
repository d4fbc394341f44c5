import * as fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Config } from '../../config/config';
import { SecretMissingError } from '../../config/secrets';
import {
  BenchDatasetError,
  BenchOptionsError,
  runBenchDetailed,
  runSweep,
  servedModel,
  type BenchOptions,
  type BenchRun,
} from '../../loadgen';
import { reportBadInput } from '../bad-input';
import { benchServingJson } from '../bench-json';
import { benchProgress } from '../bench-progress';
import { renderBenchReport, type ReportLevel } from '../bench-report';
import { benchTable } from '../bench-table';
import { BenchTargetError, resolveBenchTarget } from '../bench-target';

interface BenchFlags {
  datasetName: 'random' | 'sharegpt' | 'jsonl' | 'warmup';
  datasetPath?: string;
  numPrompts: number;
  randomInputLen: number;
  randomOutputLen: number;
  randomRangeRatio: number;
  requestRate: number;
  maxConcurrency?: number;
  concurrency?: number;
  sweep?: boolean;
  warmupRequests: number;
  seed: number;
  disableIgnoreEos?: boolean;
  model?: string;
  apiKeyEnv?: string;
  platform: 'local' | 'modal';
  json?: boolean;
  outputFile?: string;
  report?: string;
}

/**
 * `glm-ops bench TARGET`: SGLang bench_serving's load test (its flags, its figures, its table and JSON lines) against
 * an app glm-ops deployed or any OpenAI-compatible URL, plus an HTML report with the curves.
 */
export function registerBenchCommand(program: Command, settings: Config): void {
  program
    .command('bench')
    .description(
      "load-test an app or an OpenAI-compatible URL with SGLang bench_serving's definitions (TTFT, TPOT, ITL, throughput)",
    )
    .argument('<target>', 'an app name (its endpoint and API key come from the platform) or a URL (http://…/v1)')
    .addOption(
      new Option('--dataset-name <name>', 'where the prompts come from')
        .choices(['random', 'sharegpt', 'jsonl', 'warmup'])
        .default('random'),
    )
    .option('--dataset-path <file>', 'the ShareGPT JSON or JSONL file (--dataset-name sharegpt|jsonl)')
    .option('--num-prompts <n>', 'requests to send', integerAtLeast('--num-prompts', 1), 1000)
    .option(
      '--random-input-len <n>',
      'prompt tokens of the random dataset',
      integerAtLeast('--random-input-len', 1),
      1024,
    )
    .option(
      '--random-output-len <n>',
      'output tokens of the random dataset',
      integerAtLeast('--random-output-len', 1),
      1024,
    )
    .option('--random-range-ratio <r>', 'lengths are drawn from [len × r, len]', ratio, 0)
    .option('--request-rate <r>', 'Poisson arrivals per second; inf sends all at once', rate, Infinity)
    .option('--max-concurrency <n>', 'at most this many requests in flight', integerAtLeast('--max-concurrency', 1))
    .option('--concurrency <n>', 'the same as --max-concurrency', integerAtLeast('--concurrency', 1))
    .option('--sweep', 'one request at a time, then all at once, then Poisson rates between the two throughputs')
    .option('--warmup-requests <n>', 'requests sent first and discarded', integerAtLeast('--warmup-requests', 0), 1)
    .option('--seed <n>', 'seeds prompts, lengths and arrivals', integerAtLeast('--seed', 0), 42)
    .option('--disable-ignore-eos', 'let requests stop at EOS instead of generating their full output length')
    .option('--model <name>', "the served model (default: the app's, or the first of /v1/models)")
    .option('--api-key-env <NAME>', 'environment variable holding the API key (URL targets)')
    .addOption(new Option('--platform <name>', 'where an app TARGET runs').choices(['local', 'modal']).default('local'))
    .option('--json', "print bench_serving's JSON line (one per run) instead of the table")
    .option('--output-file <file>', "append bench_serving's JSON line (one per run) to this file")
    .option('--report <file.html>', 'write a self-contained HTML report with TTFT/TPOT/throughput against load')
    .action(async (target: string, flags: BenchFlags) => {
      const problem = flagProblem(flags);
      if (problem) return reportBadInput(problem);
      try {
        const resolved = await resolveBenchTarget(
          target,
          { apiKeyEnv: flags.apiKeyEnv, platform: flags.platform },
          settings,
        );
        const model = flags.model ?? resolved.model ?? (await servedModel(resolved.baseUrl, resolved.apiKey));
        if (!flags.json) console.log(`bench ${resolved.description}, model ${model}`);
        const levels = await runLevels(flags, { baseUrl: resolved.baseUrl, apiKey: resolved.apiKey, model });
        writeResults(flags, levels, target);
        if (levels.every((level) => level.run.summary.completed === 0)) process.exitCode = 1;
      } catch (err) {
        if (err instanceof BenchTargetError || err instanceof BenchDatasetError || err instanceof SecretMissingError) {
          return reportBadInput(err.message);
        }
        if (err instanceof BenchOptionsError) {
          console.error(`glm-ops: ${err.message}`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}

/** What no parser catches alone: flags that need or exclude each other. */
function flagProblem(flags: BenchFlags): string | undefined {
  const isFile = flags.datasetName === 'sharegpt' || flags.datasetName === 'jsonl';
  if (isFile && !flags.datasetPath) return `--dataset-name ${flags.datasetName} needs --dataset-path FILE`;
  if (!isFile && flags.datasetPath) return `--dataset-path is only read by --dataset-name sharegpt or jsonl`;
  if (
    flags.concurrency !== undefined &&
    flags.maxConcurrency !== undefined &&
    flags.concurrency !== flags.maxConcurrency
  ) {
    return `--concurrency ${flags.concurrency} and --max-concurrency ${flags.maxConcurrency} disagree (they are one setting)`;
  }
  if (flags.sweep && (flags.maxConcurrency ?? flags.concurrency) !== undefined) {
    return '--sweep chooses the load itself: drop --max-concurrency/--concurrency';
  }
  if (flags.sweep && Number.isFinite(flags.requestRate)) return '--sweep chooses the load itself: drop --request-rate';
  return undefined;
}

async function runLevels(
  flags: BenchFlags,
  target: { baseUrl: string; apiKey?: string; model: string },
): Promise<ReportLevel[]> {
  const abort = new AbortController();
  const onInterrupt = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onInterrupt);
  const base: Omit<BenchOptions, 'maxConcurrency' | 'requestRate' | 'onProgress'> = {
    ...target,
    dataset:
      flags.datasetName === 'random'
        ? {
            name: 'random',
            inputLen: flags.randomInputLen,
            outputLen: flags.randomOutputLen,
            rangeRatio: flags.randomRangeRatio,
          }
        : flags.datasetName === 'warmup'
          ? { name: 'warmup' }
          : { name: flags.datasetName, path: flags.datasetPath! },
    numPrompts: flags.numPrompts,
    warmupRequests: flags.warmupRequests,
    ignoreEos: !flags.disableIgnoreEos,
    seed: flags.seed,
    signal: abort.signal,
  };
  try {
    if (!flags.sweep) {
      const progress = benchProgress(process.stderr, 'requests');
      const maxConcurrency = flags.maxConcurrency ?? flags.concurrency;
      const run = await runBenchDetailed({
        ...base,
        maxConcurrency,
        requestRate: flags.requestRate,
        onProgress: progress.update,
      });
      progress.done();
      return [{ label: loadLabel(run), run }];
    }
    let progress = benchProgress(process.stderr, 'sweep');
    const levels = await runSweep({
      ...base,
      onLevel: ({ index, total, kind, requestRate }) => {
        progress.done();
        const what = kind === 'rate' ? `rate ${requestRate!.toFixed(2)}/s` : kind;
        progress = benchProgress(process.stderr, `sweep ${index + 1}/${total} (${what}):`);
      },
      onProgress: (p) => progress.update(p),
    });
    progress.done();
    return levels.map(({ kind, run }) => ({ label: `${kind}: ${loadLabel(run)}`, run }));
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

function loadLabel(run: BenchRun): string {
  const s = run.summary;
  const cap = s.max_concurrency === null ? 'no concurrency cap' : `max concurrency ${s.max_concurrency}`;
  const rate = s.request_rate === 'inf' ? 'all at once' : `${s.request_rate.toFixed(2)} req/s`;
  return `${rate}, ${cap}`;
}

function writeResults(flags: BenchFlags, levels: ReportLevel[], target: string): void {
  const lines = levels.map((level) => JSON.stringify(benchServingJson(level.run)));
  if (flags.json) for (const line of lines) console.log(line);
  else for (const level of levels) console.log(`\n${level.label}\n${benchTable(level.run)}`);
  if (flags.outputFile) {
    fs.appendFileSync(flags.outputFile, lines.map((line) => `${line}\n`).join(''));
    if (!flags.json) console.log(`appended ${lines.length} JSON line(s) to ${flags.outputFile}`);
  }
  if (flags.report) {
    const html = renderBenchReport({ title: `glm-ops bench ${target}`, levels, generatedAt: new Date().toISOString() });
    fs.writeFileSync(flags.report, html);
    if (!flags.json) console.log(`report: ${flags.report}`);
  }
  const failed = levels.reduce((n, level) => n + level.run.summary.failed, 0);
  if (failed > 0) {
    const example = levels.flatMap((level) => level.run.records).find((r) => !r.success)?.error;
    console.error(`glm-ops: ${failed} request(s) failed, e.g. ${example ?? 'no detail'}`);
  }
}

function integerAtLeast(flag: string, min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed < min) {
      throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got "${value}"`);
    }
    return parsed;
  };
}

function ratio(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= 0 && parsed <= 1)) {
    throw new InvalidArgumentError(`--random-range-ratio must be a number in [0, 1], got "${value}"`);
  }
  return parsed;
}

function rate(value: string): number {
  if (value.trim().toLowerCase() === 'inf') return Infinity;
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed > 0) || !Number.isFinite(parsed)) {
    throw new InvalidArgumentError(`--request-rate must be a number > 0 or inf, got "${value}"`);
  }
  return parsed;
}
