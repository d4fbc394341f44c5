import { predictCandidate, type CandidateInputs } from '../src/emulator/candidate-prediction';

// The twin's answer to each tuning lever, one at a time from the guide's production flags (examples/glm-5.1-b200.yaml):
// predictCandidate — the same engine model (KV pool, OOM limit, EAGLE settings, admission) and timing model the
// emulator serves with — under one closed-loop load. Usage:
//   npm run bench -- emulator-candidates [concurrency] [inputLen] [outputLen]
// Machine-independent: the figures are the model's, in the guide's milliseconds. Tuning on the twin tunes the twin.

const GUIDE_ARGS = {
  tp: 8,
  'speculative-algorithm': 'EAGLE',
  'speculative-num-steps': 3,
  'speculative-eagle-topk': 1,
  'speculative-num-draft-tokens': 4,
  'mem-fraction-static': 0.88,
  'max-running-requests': 48,
  'max-total-tokens': 65536,
};

type Row = [label: string, over: Partial<CandidateInputs>, args: Record<string, string | number | boolean>];

const ROWS: Row[] = [
  ['the guide (B200, 1 container, max_inputs 48)', {}, {}],
  ['no EAGLE', {}, { 'speculative-algorithm': false }],
  ['speculative-num-steps 1', {}, { 'speculative-num-steps': 1, 'speculative-num-draft-tokens': 2 }],
  ['speculative-num-steps 5', {}, { 'speculative-num-steps': 5, 'speculative-num-draft-tokens': 6 }],
  ['max-running-requests 32', {}, { 'max-running-requests': 32 }],
  ['max-running-requests 64', { maxInputs: 64 }, { 'max-running-requests': 64 }],
  ['max-running-requests 96', { maxInputs: 96 }, { 'max-running-requests': 96 }],
  [
    'max-running-requests 96, no max-total-tokens',
    { maxInputs: 96 },
    { 'max-running-requests': 96, 'max-total-tokens': false },
  ],
  ['max-total-tokens 32768', {}, { 'max-total-tokens': 32768 }],
  ['no max-total-tokens (pool = memory)', {}, { 'max-total-tokens': false }],
  ['mem-fraction-static 0.85', {}, { 'mem-fraction-static': 0.85 }],
  ['mem-fraction-static 0.92', {}, { 'mem-fraction-static': 0.92 }],
  ['max_inputs 20 (the guide’s Modal default)', { maxInputs: 20 }, {}],
  ['max_containers 2', { maxContainers: 2 }, {}],
  ['max_containers 3', { maxContainers: 3 }, {}],
  ['max_containers 3, max_inputs 20', { maxContainers: 3, maxInputs: 20 }, {}],
  ['H200, mem-fraction-static 0.83', { gpuType: 'H200' }, { 'mem-fraction-static': 0.83 }],
  ['H200, 0.83, no max-total-tokens', { gpuType: 'H200' }, { 'mem-fraction-static': 0.83, 'max-total-tokens': false }],
  ['H200, mem-fraction-static 0.88', { gpuType: 'H200' }, {}],
  ['4 × B200 (tp 4)', { gpuCount: 4 }, { tp: 4 }],
];

function main(): void {
  const [concurrency = 96, inputLen = 1000, outputLen = 128] = process.argv.slice(2).map(Number);
  const workload = { concurrency, requests: concurrency * 4, inputLen, outputLen };
  console.log(
    `\npredictCandidate, ${concurrency} users (closed loop), ${workload.requests} requests, ${inputLen} → ${outputLen} tokens, ` +
      '700 GB of weights, all containers warm:\n',
  );
  console.log(
    '| candidate | outcome | KV pool (tokens) | TTFT p50 (ms) | TTFT p95 (ms) | TPOT p50 (ms) | output tok/s | peak running | waited for KV | accept length |',
  );
  console.log('|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, over, args] of ROWS) {
    const p = predictCandidate({
      gpuType: 'B200',
      gpuCount: 8,
      weightsGB: 700,
      maxContainers: 1,
      maxInputs: 48,
      workload,
      ...over,
      args: { ...GUIDE_ARGS, ...args },
    });
    if (p.outcome === 'oom') {
      console.log(`| ${label} | OOM: ${p.reason} | | | | | | | | |`);
      continue;
    }
    const f = p.figures;
    console.log(
      `| ${label} | measured | ${p.engine.poolTokens} | ${f.ttftP50Ms.toFixed(0)} | ${f.ttftP95Ms.toFixed(0)} | ` +
        `${f.tpotP50Ms.toFixed(2)} | ${f.outputTokensPerSec.toFixed(0)} | ${p.load.peakRunning} | ` +
        `${p.load.kvLimitedRequests} | ${f.acceptLength === null ? '—' : f.acceptLength.toFixed(2)} |`,
    );
  }
}

main();
