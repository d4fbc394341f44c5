import { linePredicate, notFromSglang, type LinePattern, type TriageRule } from './triage-rule';

/** One of the guide's §18 troubleshooting scenarios, with the signals that identify it. */
export interface TroubleshootingScenario {
  id: string;
  /** The symptom, as the guide's heading words it. */
  symptom: string;
  likelyCause: string;
  /** How the guide says to confirm it. */
  diagnosis: string;
  resolution: string;
  prevention?: string;
  severity: 'error' | 'warning';
  signals: Pick<
    TriageRule,
    'logPatterns' | 'exitCodes' | 'probeOutcomes' | 'smokeFailures' | 'isWarmupFailureSignal' | 'contextPatterns'
  >;
  /** When the scenario fits (stage, a flag it blames, whether it is an engine death) and its one fix. */
  fit: Pick<TriageRule, 'stages' | 'blamesMissingArg' | 'isEngineDeath' | 'fix'> & { fix: string };
}

const SERVER_ARGS = /server_args=ServerArgs\(|ServerArgs\(/;

/** Matches a server-args line whose setting is absent, `None`, or a value other than the expected one. */
function serverArgNot(names: string[], expected: string): LinePattern {
  const setting = new RegExp(`\\b(?:${names.join('|')})=(?:"|')?([^"',)\\s]*)`);
  return linePredicate((line) => {
    if (!SERVER_ARGS.test(line)) return false;
    const match = setting.exec(line);
    return !match || match[1] !== expected;
  });
}

/** Guide §18: all eight troubleshooting scenarios (symptom → likely cause → diagnosis → resolution → prevention). */
export const TROUBLESHOOTING_SCENARIOS: readonly TroubleshootingScenario[] = [
  {
    id: 'weights-missing',
    symptom: 'FileNotFoundError: Model weights missing at /model-cache/GLM-5.1-FP8',
    likelyCause: 'Volume eventual consistency — server container started before download commit propagated',
    diagnosis: 'Check if download_model completed successfully and called model_volume.commit().',
    resolution:
      'Add model_volume.reload() at the start of the Server.setup() method. This forces a metadata refresh from the central store.',
    prevention: 'Always reload both volumes at startup. The reference deploy.py does this in @modal.enter().',
    severity: 'error',
    fit: {
      stages: ['start-up'],
      isEngineDeath: true,
      fix: 'add model_volume.reload() at the start of Server.setup(), then roll out again',
    },
    signals: {
      logPatterns: [
        notFromSglang(
          /FileNotFoundError\b.*\b(weights?|model|safetensors|config\.json)/i,
          'guide',
          "the guide's symptom line; no missing-weights start was recorded (the emulator prints this shape)",
        ),
        notFromSglang(
          /does not appear to have a file named config\.json|Cannot find any model weights/,
          'guide',
          "transformers' and SGLang's loader messages for a folder without config.json / weights; not recorded",
        ),
      ],
    },
  },
  {
    id: 'garbled-output',
    symptom: 'Generation quality seems worse than expected / garbled output',
    likelyCause: 'Using FP8 KV cache (crashes/accuracy issues) or wrong decode backend',
    diagnosis:
      'Check if --kv-cache-dtype fp8_e4m3 was accidentally set. Verify --nsa-decode-backend trtllm is present.',
    resolution: 'Remove any FP8 KV cache flags. Ensure TRT-LLM backends are used for NSA decode and prefill.',
    prevention: 'The reference _build_sglang_cmd intentionally omits KV cache dtype to use BF16 default.',
    severity: 'error',
    fit: { fix: 'remove --kv-cache-dtype fp8_e4m3 from sglang.args and keep --nsa-decode-backend trtllm' },
    signals: {
      logPatterns: [
        /KV Cache is allocated\. dtype: torch\.float8/,
        /\b(kv_cache_dtype|kvCacheDtype)=["']?fp8/,
        notFromSglang(
          /--kv-cache-dtype[ =]fp8/,
          'glm-ops',
          "the launch command glm-ops logs before SGLang's own lines",
        ),
        notFromSglang(/#22359/, 'guide', "the guide's EAGLE + FP8 KV crash (SGLang #22359); the emulator names it"),
        notFromSglang(
          /\b(nsa_decode_backend|dsa_decode_backend|nsaDecodeBackend)=["']?(?!trtllm\b)[a-z]/,
          'guide',
          "the guide's backend rule; the recorded single-GPU runs leave dsa_decode_backend=None (not a wrong backend)",
        ),
      ],
      smokeFailures: ['garbled-output'],
    },
  },
  {
    id: 'tool-calls-malformed',
    symptom: 'Tool calls return malformed JSON or wrong function names',
    likelyCause: 'Missing or wrong tool parser flag for GLM-5.1',
    diagnosis:
      'Verify --tool-call-parser glm47 is in the launch command. Check the request includes properly formatted tools array.',
    resolution:
      'Add --tool-call-parser glm47 to _build_sglang_cmd. Ensure tools conform to OpenAI function calling schema.',
    severity: 'error',
    fit: {
      blamesMissingArg: { name: 'tool-call-parser', value: 'glm47' },
      fix: 'add tool-call-parser: glm47 to sglang.args',
    },
    signals: {
      logPatterns: [serverArgNot(['tool_call_parser', 'toolCallParser'], 'glm47')],
      smokeFailures: ['tool-call'],
    },
  },
  {
    id: 'reasoning-empty',
    symptom: 'reasoning_content is empty even though thinking should be enabled',
    likelyCause: 'Missing reasoning parser or request explicitly disabled thinking',
    diagnosis: 'Check for --reasoning-parser glm45 in launch command. Check if request had enable_thinking: false.',
    resolution:
      'Add --reasoning-parser glm45 to _build_sglang_cmd. Thinking is enabled by default if parser is present.',
    severity: 'error',
    fit: {
      blamesMissingArg: { name: 'reasoning-parser', value: 'glm45' },
      fix: 'add reasoning-parser: glm45 to sglang.args',
    },
    signals: {
      logPatterns: [serverArgNot(['reasoning_parser', 'reasoningParser'], 'glm45')],
      smokeFailures: ['reasoning-content'],
    },
  },
  {
    id: 'warmup-failures',
    symptom: 'Warmup requests fail with 500 errors or timeouts',
    likelyCause: 'CUDA graph capture taking longer than warmup timeout, or SGLang crashed during first inference',
    diagnosis: 'Check logs for CUDA graph capture messages and timing. Verify subprocess is still running.',
    resolution:
      'Increase warmup timeout from 300s to 600s for first-time graph capture. Ensure warmup happens after /health passes.',
    prevention: 'The 4 diverse warmup requests trigger different CUDA graphs. First cold start is always slowest.',
    severity: 'error',
    fit: {
      stages: ['first-requests', 'serving'],
      fix: 'raise warmup.timeout from 300 s to 600 s for the first CUDA graph capture',
    },
    signals: {
      logPatterns: [
        notFromSglang(/\[warmup\].*\b(fail|failed|error|timed out|timeout)\b/i, 'glm-ops', "glm-ops's warmup lines"),
        notFromSglang(
          /Internal server error:.*CUDA graph/i,
          'emulator',
          "the emulator's injected 5xx; real SGLang captures graphs at start-up, before it serves",
        ),
      ],
      isWarmupFailureSignal: true,
      // Real 0.5.17 wording is `Capture target prefill CUDA graph begin.`; the guide's is `Capture cuda graph begin`.
      contextPatterns: [
        /Capture (?:[a-z]+ )*CUDA graph (begin|end)/i,
        notFromSglang(/\[http_server\] Error/, 'emulator', "the emulator's handler error line"),
      ],
    },
  },
  {
    id: 'crash-502',
    symptom: 'Container returns 502 Bad Gateway after running fine for hours',
    likelyCause: 'SGLang subprocess crashed (OOM, CUDA error, NCCL timeout) but Modal container stayed alive',
    diagnosis:
      'Check modal app logs for [monitor] FATAL: SGLang died messages. Look for exit code -9 (OOM) or 137 (SIGKILL).',
    resolution:
      'The crash monitor should trigger os._exit(1) to replace the container. If not present, add the _monitor_process thread to deploy.py.',
    prevention:
      'Lower --mem-fraction-static from 0.88 to 0.85 if OOM is recurring. Check for memory leaks in long sessions.',
    severity: 'error',
    fit: {
      stages: ['serving'],
      isEngineDeath: true,
      fix: 'keep the crash monitor (os._exit(1) replaces the container); if OOM recurs, lower --mem-fraction-static 0.88 → 0.85',
    },
    signals: {
      logPatterns: [notFromSglang(/\[monitor\] FATAL: SGLang died/, 'glm-ops', "glm-ops's crash monitor line")],
      probeOutcomes: ['bad-gateway'],
      contextPatterns: [notFromSglang(/\[monitor\] container exits/, 'glm-ops', "glm-ops's crash monitor line")],
    },
  },
  {
    id: 'cold-start-jit',
    symptom: 'Cold start takes 15+ minutes instead of expected 6-10 minutes',
    likelyCause: 'DeepGEMM kernels are being JIT-compiled at startup instead of loading from cache',
    diagnosis:
      'Run modal run deploy.py::verify_setup and check if .compiled-GLM-5.1-FP8 marker exists in the DeepGEMM volume.',
    resolution:
      'Run modal run deploy.py::compile_deepgemm once on B200 to pre-compile kernels. Ensure dg_volume.commit() is called after compilation.',
    prevention:
      'Never change GPU_TYPE without recompiling DeepGEMM. The marker file includes the GPU type for verification.',
    severity: 'warning',
    fit: { fix: 'pre-compile DeepGEMM once on this GPU type (the kernels step) and keep its marker' },
    signals: {
      logPatterns: [
        notFromSglang(
          /Entering DeepGEMM JIT Pre-Compile session/i,
          'guide',
          "the guide's wording; the recorded install had no deep_gemm, so no JIT line was recorded",
        ),
        notFromSglang(/DeepGEMM JIT compiling kernels/i, 'emulator', "the emulator's JIT progress line"),
        notFromSglang(/no precompiled kernels/i, 'emulator', "the emulator's JIT reason"),
      ],
    },
  },
  {
    id: 'ttft-spikes',
    symptom: 'TTFT spikes to 2-3 seconds under load (was ~250ms at low concurrency)',
    likelyCause: 'EAGLE speculative decoding verification queue is backing up',
    diagnosis:
      'Check if concurrent requests exceed --max-running-requests (default 48). Look at /metrics for queue depth.',
    resolution:
      'Either scale max_containers from 3 to 4+, or reduce max-running-requests to 32-40 for lower TTFT variance.',
    prevention:
      'EAGLE trades some TTFT for massive TPOT improvement. For latency-critical apps, cap concurrency lower.',
    severity: 'warning',
    fit: {
      stages: ['first-requests', 'serving'],
      fix: 'raise modal.maxContainers, or lower --max-running-requests to 32–40',
    },
    signals: {
      logPatterns: [/#queue-req: [1-9]\d*/, /sglang:num_queue_reqs\{[^}]*\} [1-9]/],
      smokeFailures: ['performance-gate', 'ttft-slo'],
    },
  },
];

/** The scenarios in matcher form (prevention folded into the resolution, the guide's diagnosis step kept). */
export function scenarioRules(): TriageRule[] {
  return TROUBLESHOOTING_SCENARIOS.map((scenario) => ({
    id: scenario.id,
    title: scenario.symptom,
    severity: scenario.severity,
    likelyCause: scenario.likelyCause,
    resolution: [
      scenario.resolution,
      `To confirm: ${scenario.diagnosis}`,
      scenario.prevention ? `Prevention: ${scenario.prevention}` : '',
    ]
      .filter(Boolean)
      .join(' '),
    guideSection: '§18 Troubleshooting scenarios',
    ...scenario.signals,
    ...scenario.fit,
  }));
}
