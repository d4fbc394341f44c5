import type * as z from 'zod';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { predictCandidate } from '../src/emulator/candidate-prediction';
import type { PerformanceFigures, PerformanceLoad } from '../src/shared/performance-types';
import type { TrialRecord, TuneCandidate, TunePricing } from '../src/shared/tune-types';
import { GPU_CATALOG } from '../src/spec/gpu-catalog';
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';
import type { SloLoad } from '../src/spec/slo-schema';

type SloLoadInput = z.input<typeof SloLoad>;
import { TuneSpec, type TuneSpecInput } from '../src/spec/tune-schema';
import { planNextTrials } from '../src/workflows/tune-search';
import { guidedStep, type GuidedOptions } from '../src/workflows/tune-search-guided';
import { candidateKey, gridCandidates, gridSize } from '../src/workflows/tune-space';
import { bestTrial, candidateGpus, judgeTrial } from '../src/workflows/tune-trial-judge';
import { machineLine, option } from './bench-stack';

// Trials vs grid: the guided search against the full grid on the same spaces, with the emulator's own model as the
// trial oracle (offline, guide time). Each strategy runs the tune's loop — plan, run `next`, record, plan again — and
// the table shows how many trials it took and how close its best is to the grid's best (the true optimum of the
// space under the oracle). `npm run bench -- tune-search`.

/** What one trial of a candidate would measure. */
interface OracleAnswer {
  outcome: 'measured' | 'infeasible';
  reason?: string;
  figures: PerformanceFigures | null;
}

type Oracle = (spec: Spec, load: PerformanceLoad, outputTokens: number, promptTokens: number) => OracleAnswer;

/**
 * The twin's own model without a server (`predictCandidate`: the KV pool from GPU memory, weights and
 * mem-fraction-static, OOM above the GPU's limit, admission by decode slots and KV room, the EAGLE settings, one engine
 * per container taking maxInputs each). It serves on the containers the platform would start: one more only when
 * the others hold maxInputs (the local platform's request placement, Modal's autoscaler), at least minContainers.
 */
const twinModel: Oracle = (spec, load, outputTokens, promptTokens) => {
  const users = load.concurrency ?? 1;
  const { maxInputs, maxContainers, minContainers } = spec.modal;
  const prediction = predictCandidate({
    gpuType: spec.gpu.type,
    gpuCount: spec.gpu.count,
    weightsGB: spec.model.weightsGB,
    args: spec.sglang.args,
    maxContainers: Math.min(maxContainers, Math.max(minContainers, Math.ceil(users / maxInputs))),
    maxInputs,
    workload: { concurrency: users, requests: load.requests, inputLen: promptTokens, outputLen: outputTokens },
    sglangImage: spec.sglang.image,
  });
  if (prediction.outcome === 'oom') return { outcome: 'infeasible', reason: prediction.reason, figures: null };
  return { outcome: 'measured', figures: prediction.figures };
};

/** The oracle with its answers kept per config: every strategy of a row asks about the same points. */
function memoized(oracle: Oracle): Oracle {
  const answers = new Map<string, OracleAnswer>();
  return (spec, load, outputTokens, promptTokens) => {
    const key = JSON.stringify([spec.gpu, spec.sglang.args, spec.modal]);
    let answer = answers.get(key);
    if (!answer) {
      answer = oracle(spec, load, outputTokens, promptTokens);
      answers.set(key, answer);
    }
    return answer;
  };
}

/** The base spec with the candidate's levers set (`false` = the flag omitted). */
function applyCandidate(spec: Spec, candidate: TuneCandidate): Spec {
  const args = { ...spec.sglang.args };
  for (const [flag, value] of Object.entries(candidate.args)) {
    if (value === false) delete args[flag];
    else args[flag] = value;
  }
  return { ...spec, sglang: { ...spec.sglang, args }, modal: { ...spec.modal, ...candidate.modal } };
}

type Planner = (spec: Spec, tune: TuneSpec, trials: readonly TrialRecord[]) => { next: TuneCandidate[] };

interface Run {
  trials: TrialRecord[];
  best: TrialRecord | null;
}

/** The tune's loop with the oracle in place of the trial child workflow. */
function runTune(spec: Spec, tune: TuneSpec, pricing: TunePricing, plan: Planner, oracle: Oracle): Run {
  const workload = tune.workload ?? spec.slo.load;
  const dataset = workload.dataset.name === 'random' ? workload.dataset : { inputLen: 256, outputLen: 32 };
  const load: PerformanceLoad = {
    concurrency: workload.concurrency ?? null,
    requestRate: null,
    requests: workload.requests ?? 16,
    warmupRequests: 0,
    dataset: `random ${dataset.inputLen}→${dataset.outputLen} tokens`,
  };
  const trials: TrialRecord[] = [];
  const limit = gridSize(tune.space) + 1;
  for (;;) {
    const { next } = plan(spec, tune, trials);
    if (next.length === 0) break;
    for (const candidate of next) {
      if (trials.length >= limit) throw new Error('the search did not end: more trials than grid points');
      const answer = oracle(applyCandidate(spec, candidate), load, dataset.outputLen, dataset.inputLen);
      const judged = judgeTrial({
        figures: answer.figures,
        load,
        slo: spec.slo,
        objective: tune.objective,
        pricing,
        gpus: candidateGpus(spec, candidate),
      });
      trials.push({
        index: trials.length + 1,
        key: candidateKey(candidate),
        candidate,
        app: `${spec.app}-t${trials.length + 1}`,
        outcome: answer.outcome,
        ...(answer.reason ? { reason: answer.reason } : {}),
        figures: answer.figures,
        load,
        ...judged,
        gpuHours: 0,
        dollars: 0,
        startedAt: '1970-01-01T00:00:00.000Z',
        durationMs: 0,
        isTornDown: true,
      });
    }
  }
  return { trials, best: bestTrial(trials) };
}

/**
 * guided: the tune's own (the rules, then block coordinate descent once per speculative mode); rules only: every
 * point the rules leave, in grid order — the space's best whenever the rules hold, at the rules' price alone; descent
 * only: the same descent over the raw grid, mem-fraction swept like any lever and OOMs re-tried.
 */
const STRATEGIES: Array<{ name: string; plan: Planner }> = [
  { name: 'guided', plan: (spec, tune, trials) => planNextTrials({ spec, tune, trials }) },
  { name: 'rules only', plan: variant({ method: 'pruned-grid', isPruning: true }) },
  { name: 'descent only', plan: variant({ method: 'coordinate-descent', isPruning: false }) },
];

/**
 * The grid strategy's walk (every point in gridCandidates order, as test/workflows/tune-search.test.ts checks), read
 * off the trials' count instead of re-planned after each trial: the planner's filter over the whole grid per step
 * would make the benchmark quadratic in the grid for no information.
 */
function gridWalk(tune: TuneSpec): Planner {
  const grid = gridCandidates(tune.space);
  return (_spec, _tune, trials) => ({ next: trials.length < grid.length ? [grid[trials.length]!] : [] });
}

function variant(options: GuidedOptions): Planner {
  return (spec, tune, trials) => guidedStep(spec, tune, trials, options);
}

/** The demo's five levers (issue 18): the running cap, mem-fraction, EAGLE and its steps, Modal's input cap and replicas. */
const FIVE_LEVERS: TuneSpecInput['space'] = {
  args: {
    'max-running-requests': [16, 24, 32, 40, 48, 64],
    'mem-fraction-static': [0.83, 0.85, 0.88, 0.9],
    'speculative-algorithm': ['EAGLE', false],
    'speculative-num-steps': [1, 2, 3, 4],
  },
  modal: { maxInputs: [16, 32, 48, 64], maxContainers: [1, 2, 3, 4] },
};

/** The guide's own neighbourhood (§1, §4, §18, §20): 32–64 running, 0.85–0.90, EAGLE or not, 20 or 48 inputs, 1–3 replicas. */
const GUIDE_SPACE: TuneSpecInput['space'] = {
  args: {
    'max-running-requests': { from: 32, to: 64, step: 8 },
    'mem-fraction-static': [0.85, 0.88, 0.9],
    'speculative-algorithm': ['EAGLE', false],
  },
  modal: { maxInputs: [20, 48], maxContainers: [1, 2, 3] },
};

interface Row {
  space: string;
  gpu: string;
  users: number;
  objective: string;
  gridPoints: number;
  strategy: string;
  trials: number;
  bestValue: number | null;
  gridBestValue: number | null;
  meetsSlo: boolean;
  gridMeetsSlo: boolean;
  bestKey: string;
  gridBestKey: string;
}

function main(): void {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'local-demo.yaml'), 'utf8');
  const parsed = parseSpecText(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const rows: Row[] = [];
  const only = option('space', 'all');
  const example = parsed.spec.tune;
  if (!example) throw new Error('examples/local-demo.yaml has no tune: section');
  const users = (concurrency: number): SloLoadInput => ({
    concurrency,
    requests: concurrency * 4,
    warmupRequests: 0,
    dataset: { name: 'random', inputLen: 1000, outputLen: 128 },
  });
  const spaces: Array<{ name: string; space: TuneSpecInput['space']; workloads: SloLoadInput[] }> = [
    { name: 'local-demo.yaml', space: example.space, workloads: [example.workload ?? parsed.spec.slo.load] },
    { name: 'guide', space: GUIDE_SPACE, workloads: [users(48), users(144)] },
    { name: 'five levers', space: FIVE_LEVERS, workloads: [users(48), users(144)] },
  ];
  for (const { name, space, workloads } of spaces.filter((entry) => only === 'all' || entry.name === only)) {
    for (const gpuType of ['B200', 'H200']) {
      for (const workload of workloads) {
        for (const objective of ['output-tokens-per-sec', 'tokens-per-dollar'] as const) {
          const spec: Spec = { ...parsed.spec, gpu: { ...parsed.spec.gpu, type: gpuType } };
          const tune = TuneSpec.parse({ space, objective, workload });
          const pricing: TunePricing = {
            dollarsPerGpuHour: GPU_CATALOG[gpuType]!.dollarsPerGpuHour,
            source: 'catalog',
          };
          const oracle = memoized(twinModel);
          const grid = runTune(spec, tune, pricing, gridWalk(tune), oracle);
          for (const strategy of STRATEGIES) {
            const run = runTune(spec, tune, pricing, strategy.plan, oracle);
            rows.push({
              space: name,
              gpu: gpuType,
              users: tune.workload?.concurrency ?? 0,
              objective,
              gridPoints: gridSize(tune.space),
              strategy: strategy.name,
              trials: run.trials.length,
              bestValue: run.best?.objectiveValue ?? null,
              gridBestValue: grid.best?.objectiveValue ?? null,
              meetsSlo: run.best !== null,
              gridMeetsSlo: grid.best !== null,
              bestKey: run.best?.key ?? '—',
              gridBestKey: grid.best?.key ?? '—',
            });
          }
        }
      }
    }
  }
  printTable(rows);
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'tune-search.json'), JSON.stringify(rows, null, 2));
}

/** One line per space × GPU × workload × objective: each strategy's trials, and each one's best as % of the grid's. */
function printTable(rows: Row[]): void {
  const cases = new Map<string, Row[]>();
  for (const row of rows) {
    const key = [row.space, row.gpu, row.users, row.objective].join('|');
    cases.set(key, [...(cases.get(key) ?? []), row]);
  }
  const names = STRATEGIES.map((strategy) => strategy.name);
  console.log(
    `| space | GPU | users | objective | grid points | ${names.map((name) => `trials: ${name}`).join(' | ')} | ` +
      `${names.map((name) => `best vs grid: ${name}`).join(' | ')} | meets SLO (guided / grid) |`,
  );
  console.log(
    `|:---|:---|---:|:---|---:|${names.map(() => '---:|').join('')}${names.map(() => '---:|').join('')}:---:|`,
  );
  const percent = (r: Row): string =>
    r.bestValue === null || r.gridBestValue === null ? '—' : `${((100 * r.bestValue) / r.gridBestValue).toFixed(1)}%`;
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  for (const group of cases.values()) {
    const first = group[0]!;
    const byName = (name: string): Row => group.find((row) => row.strategy === name)!;
    console.log(
      `| ${first.space} | ${first.gpu} | ${first.users} | ${first.objective} | ${first.gridPoints} | ` +
        `${names.map((name) => byName(name).trials).join(' | ')} | ${names.map((name) => percent(byName(name))).join(' | ')} | ` +
        `${yesNo(first.meetsSlo)} / ${yesNo(first.gridMeetsSlo)} |`,
    );
  }
  console.log(
    '\nbest configs (guided / grid; equal objectives tie-break to fewer GPUs, lower TTFT p95, the earlier trial):',
  );
  for (const r of rows.filter((row) => row.strategy === names[0])) {
    console.log(`- ${r.space} ${r.gpu} ${r.users} users ${r.objective}: ${r.bestKey}  /  ${r.gridBestKey}`);
  }
  console.log(`\n${machineLine()}; oracle: the twin's predictCandidate offline (guide time), SLO TTFT p95 ≤ 300 ms`);
}

main();
