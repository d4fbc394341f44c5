import * as fs from 'node:fs';
import * as path from 'node:path';
import { TimingModel } from '../src/emulator/emulator-config';
import { lookupEmulatedGpu } from '../src/emulator/gpu-table';
import { percentile, simulateLoad, type SimulatedRequest } from '../src/emulator/load-simulation';
import type { PerformanceFigures, PerformanceLoad } from '../src/shared/performance-types';
import type { TrialRecord, TuneCandidate, TunePricing } from '../src/shared/tune-types';
import { GPU_CATALOG } from '../src/spec/gpu-catalog';
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';
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
 * The emulator's model without a server: OOM above the GPU's mem-fraction limit (gpu-table), Modal's placement
 * (a container takes maxInputs, the autoscaler spills to the next up to maxContainers, users spread evenly), and in
 * each container the FIFO slot queue of max-running-requests with the timing model's EAGLE or plain decoding
 * (simulateLoad). speculative-num-steps caps the accept length at steps + 1.
 */
const emulatorModel: Oracle = (spec, load, outputTokens, promptTokens) => {
  const args = spec.sglang.args;
  const gpu = lookupEmulatedGpu(spec.gpu.type);
  if (!gpu) throw new Error(`unknown GPU ${spec.gpu.type}`);
  const memFraction = Number(args['mem-fraction-static'] ?? 0.88);
  if (memFraction > gpu.maxMemFractionStatic) {
    return {
      outcome: 'infeasible',
      reason: `CUDA out of memory: SGLang died (code -9) — mem-fraction-static ${memFraction} above ${gpu.maxMemFractionStatic} on ${gpu.type}`,
      figures: null,
    };
  }
  const isSpeculative = /^(EAGLE|EAGLE3|NEXTN)$/i.test(String(args['speculative-algorithm'] ?? ''));
  const steps = Number(args['speculative-num-steps'] ?? 3);
  const defaults = TimingModel.parse({});
  const constants = { ...defaults, acceptLength: Math.min(defaults.acceptLength, steps + 1) };
  // The verify pass costs the same per step; fewer tokens accepted per pass → a longer time per output token.
  constants.tpotEagleMs = (defaults.tpotEagleMs * defaults.acceptLength) / constants.acceptLength;
  const users = load.concurrency ?? 1;
  const { maxInputs, maxContainers, minContainers } = spec.modal;
  const running = Number(args['max-running-requests'] ?? 48);
  const containers = Math.min(maxContainers, Math.max(minContainers, Math.ceil(users / maxInputs)));
  const requests: SimulatedRequest[] = [];
  let durationMs = 0;
  for (let c = 0; c < containers; c++) {
    const share = Math.floor(users / containers) + (c < users % containers ? 1 : 0);
    const prompts = Math.floor(load.requests / containers) + (c < load.requests % containers ? 1 : 0);
    if (share === 0 || prompts === 0) continue;
    const run = simulateLoad({
      constants,
      // Beyond maxInputs the requests wait at Modal, beyond the running cap in SGLang: one FIFO queue either way.
      maxRunningRequests: Math.min(running, maxInputs),
      isSpeculative,
      concurrency: share,
      numPrompts: prompts,
      promptTokens,
      outputTokens,
    });
    requests.push(...run.requests);
    durationMs = Math.max(durationMs, run.figures.durationMs);
  }
  const ttfts = requests.map((r) => r.timing.ttftMs);
  const tpots = requests.map((r) => r.timing.tpotMs);
  const durationSec = durationMs / 1000;
  const latencySum = requests.reduce((sum, r) => sum + (r.endMs - r.arrivalMs), 0);
  return {
    outcome: 'measured',
    figures: {
      ttftP50Ms: percentile(ttfts, 50),
      ttftP95Ms: percentile(ttfts, 95),
      tpotP50Ms: percentile(tpots, 50),
      tpotP95Ms: percentile(tpots, 95),
      outputTokensPerSec: (requests.length * outputTokens) / durationSec,
      requestsPerSec: requests.length / durationSec,
      measuredConcurrency: latencySum / durationMs,
      completed: requests.length,
      failed: 0,
      errorRate: 0,
      acceptLength: isSpeculative ? constants.acceptLength : null,
      durationSec,
    },
  };
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

const STRATEGIES: Array<{ name: string; plan: Planner }> = [
  { name: 'guided (rules + coordinate descent)', plan: (spec, tune, trials) => planNextTrials({ spec, tune, trials }) },
  { name: 'rules + every point left', plan: variant({ method: 'pruned-grid', isPruning: true }) },
  { name: 'coordinate descent, no rules', plan: variant({ method: 'coordinate-descent', isPruning: false }) },
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

/** The demo's levers (issue 18): the running cap, mem-fraction, EAGLE and its steps, Modal's input cap and replicas. */
const DEMO_SPACE: TuneSpecInput['space'] = {
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
  pruned: number;
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
  const spaces = [
    { name: 'demo', space: DEMO_SPACE },
    { name: 'guide', space: GUIDE_SPACE },
  ].filter((entry) => only === 'all' || entry.name === only);
  for (const { name, space } of spaces) {
    for (const gpuType of ['B200', 'H200']) {
      for (const users of [48, 144]) {
        for (const objective of ['output-tokens-per-sec', 'tokens-per-dollar'] as const) {
          const spec: Spec = { ...parsed.spec, gpu: { ...parsed.spec.gpu, type: gpuType } };
          const tune = TuneSpec.parse({
            space,
            objective,
            workload: {
              concurrency: users,
              requests: users * 4,
              warmupRequests: 0,
              dataset: { name: 'random', inputLen: 1000, outputLen: 128 },
            },
          });
          const pricing: TunePricing = {
            dollarsPerGpuHour: GPU_CATALOG[gpuType]!.dollarsPerGpuHour,
            source: 'catalog',
          };
          const oracle = memoized(emulatorModel);
          const grid = runTune(spec, tune, pricing, gridWalk(tune), oracle);
          for (const strategy of STRATEGIES) {
            const run = runTune(spec, tune, pricing, strategy.plan, oracle);
            const last = guidedStep(spec, tune, run.trials);
            rows.push({
              space: name,
              gpu: gpuType,
              users,
              objective,
              gridPoints: gridSize(tune.space),
              strategy: strategy.name,
              trials: run.trials.length,
              pruned: last.pruned.length,
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

function printTable(rows: Row[]): void {
  console.log(
    '| space | GPU | users | objective | grid points | strategy | trials | trials / grid | best vs grid best | meets SLO (strategy / grid) |',
  );
  console.log('|:---|:---|---:|:---|---:|:---|---:|---:|---:|:---:|');
  for (const r of rows) {
    const ratio =
      r.bestValue === null || r.gridBestValue === null ? '—' : `${((100 * r.bestValue) / r.gridBestValue).toFixed(1)}%`;
    const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
    console.log(
      `| ${r.space} | ${r.gpu} | ${r.users} | ${r.objective} | ${r.gridPoints} | ${r.strategy} | ${r.trials} | ` +
        `${((100 * r.trials) / r.gridPoints).toFixed(1)}% | ${ratio} | ${yesNo(r.meetsSlo)} / ${yesNo(r.gridMeetsSlo)} |`,
    );
  }
  console.log('\nbest configs (guided / grid):');
  for (const r of rows.filter((row) => row.strategy.startsWith('guided'))) {
    console.log(`- ${r.space} ${r.gpu} ${r.users} users ${r.objective}: ${r.bestKey}  /  ${r.gridBestKey}`);
  }
  console.log(`\n${machineLine()}; oracle: the emulator's timing model offline (guide time), SLO TTFT p95 ≤ 300 ms`);
}

main();
