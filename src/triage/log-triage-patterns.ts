import { linePredicate, notFromSglang, type TriageRule } from './triage-rule';

const HEALTH_PASSED = /\[health\] passed on attempt (\d+)\b/;

function healthAttemptAtLeast(minimum: number, maximum = Infinity) {
  return notFromSglang(
    linePredicate((line) => {
      const match = HEALTH_PASSED.exec(line);
      if (!match) return false;
      const attempt = Number(match[1]);
      return attempt >= minimum && attempt <= maximum;
    }),
    'glm-ops',
    "glm-ops's own health-wait line (the rollout's waitForHealth and modal/deploy.py print it)",
  );
}

/** PyTorch's CUDA OOM, as the recorded out-of-memory starts print it (`torch.OutOfMemoryError: CUDA out of memory.`). */
export const OOM_LINE = /CUDA out of memory|OutOfMemoryError/i;

/**
 * SGLang's report that its scheduler child was SIGKILLed from outside (recorded: `Subprocess scheduler_0 (pid=759)
 * crashed with exit code -9. Triggering SIGQUIT for cleanup...`). On a GPU host that is the kernel's OOM killer.
 */
export const SCHEDULER_KILLED_LINE = /Subprocess scheduler_\d+ \(pid=\d+\) crashed with exit code -9/;

/** The first line of a scheduler exception's traceback, as recorded. */
const SCHEDULER_EXCEPTION_LINE = /Scheduler hit an exception/;

/**
 * Guide §17 log triage (pattern → meaning → action), re-checked against the recordings of the real server: real
 * SGLang ends every failure and every SIGTERM with `kill_process_tree` on itself, so returncode -9 alone does not
 * mean the OOM killer (the guide's reading); the OOM is named by PyTorch's line or by the killed-scheduler line.
 */
export const LOG_TRIAGE_RULES: readonly TriageRule[] = [
  {
    id: 'engine-oom',
    title: '[monitor] FATAL: SGLang died (code -9)',
    severity: 'error',
    likelyCause:
      'Out of memory: a CUDA OOM in the scheduler, or the OOM killer SIGKILLed the scheduler process; SGLang then ends itself (code -9)',
    resolution: 'Lower --mem-fraction-static (e.g. 0.88 → 0.85)',
    guideSection: '§17 Log triage',
    logPatterns: [OOM_LINE, SCHEDULER_KILLED_LINE],
  },
  {
    id: 'platform-kill',
    title: '[monitor] FATAL: SGLang died (code 137)',
    severity: 'error',
    likelyCause: 'SIGKILL / platform kill (timeout, manual stop or scaledown)',
    resolution: 'Review the Modal timeout, manual stops and scaledown_window',
    guideSection: '§17 Log triage',
    exitCodes: [137],
  },
  {
    id: 'watchdog-timeout',
    title: 'SGLang watchdog killed the engine: a forward batch ran past --watchdog-timeout',
    severity: 'error',
    likelyCause:
      'One forward pass ran longer than --watchdog-timeout (a stalled kernel, NCCL hang or a long first-use compile). ' +
      'The recordings show the watchdog does not run during the weight load, which the guide names as the cause',
    resolution:
      'Set --watchdog-timeout 1200 in _build_sglang_cmd (as the reference deploy.py does); if it still fires, find the ' +
      'stalled step in the Scheduler debug info above the timeout line',
    guideSection: '§5 Stability, §13 Deployment review',
    logPatterns: [/Scheduler watchdog timeout \(self\.watchdog_timeout=/],
  },
  {
    id: 'scheduler-exception',
    title: 'Scheduler hit an exception',
    severity: 'error',
    likelyCause: "SGLang's scheduler raised an exception (the traceback's last line names it); SGLang then ends itself",
    resolution: 'Read the exception line under the traceback and fix its cause; the restart alone will hit it again',
    guideSection: '§17 Log triage',
    logPatterns: [SCHEDULER_EXCEPTION_LINE],
    suppressedBy: { ruleIds: ['engine-oom', 'weights-missing', 'garbled-output'] },
  },
  {
    id: 'engine-exit-minus-9',
    title: '[monitor] FATAL: SGLang died (code -9)',
    severity: 'error',
    likelyCause:
      'SGLang ended itself with kill_process_tree (code -9): it does so after every failure and after a SIGTERM. The ' +
      'guide reads -9 as the OOM killer; no OOM line was found',
    resolution:
      'Read the engine lines just before `kill_process_tree called`: torch.OutOfMemoryError or `Subprocess scheduler_0 ' +
      '... crashed` → lower --mem-fraction-static (e.g. 0.88 → 0.85); `Scheduler watchdog timeout` → see the watchdog ' +
      'row; `Scheduler hit an exception` → its last line; `SIGTERM received` → a requested stop',
    guideSection: '§17 Log triage',
    exitCodes: [-9],
    suppressedBy: {
      ruleIds: ['engine-oom', 'watchdog-timeout', 'scheduler-exception', 'weights-missing', 'sigterm-shutdown'],
    },
  },
  {
    id: 'sigterm-shutdown',
    title: 'SIGTERM received: SGLang drained its requests and stopped',
    severity: 'benign',
    likelyCause: 'A requested stop (scale-down, redeploy, manual stop); SGLang ends a drain with code -9 by design',
    resolution: 'None, unless nobody asked it to stop',
    guideSection: '§17 Log triage',
    logPatterns: [/SIGTERM received\. signum=None frame=None\. Draining requests and shutting down/],
  },
  {
    id: 'health-slow',
    title: '[health] passed on attempt 15+',
    severity: 'warning',
    likelyCause: 'Slow weight load or graph capture',
    resolution: 'If near the 900 s timeout, check volume I/O; consider a longer startup_timeout',
    guideSection: '§17 Log triage',
    logPatterns: [healthAttemptAtLeast(15)],
  },
  {
    id: 'health-fast',
    title: '[health] passed on attempt 1',
    severity: 'benign',
    likelyCause: 'Fast path — hot volumes / graphs',
    resolution: 'None',
    guideSection: '§17 Log triage',
    logPatterns: [healthAttemptAtLeast(1, 1)],
  },
  {
    id: 'deepgemm-compile-success',
    title: 'DeepGEMM / compile success',
    severity: 'benign',
    likelyCause: 'Kernels cached for future cold starts',
    resolution: 'None — verify the marker file exists',
    guideSection: '§17 Log triage',
    logPatterns: [
      notFromSglang(/DeepGEMM \/ compile success/, 'glm-ops', "glm-ops's compile step prints it after the marker"),
      notFromSglang(
        /DeepGEMM: loaded precompiled kernels/,
        'emulator',
        'the emulator says so on a cache hit; the recorded install had no deep_gemm, so real wording is unknown',
      ),
    ],
  },
];
