import { memFractionFix } from './mem-fraction-fix';
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
 * SGLang's own way out, recorded after every failure and every SIGTERM drain. Its absence beside code -9 means the
 * process was killed from outside before it could log anything (the recorded SIGKILL of the main process).
 */
export const KILL_PROCESS_TREE_LINE = /kill_process_tree called: parent_pid=\d+/;

/**
 * Guide §17 log triage (pattern → meaning → action), re-checked against the recordings of the real server: real
 * SGLang ends every failure and every SIGTERM with `kill_process_tree` on itself, so returncode -9 alone does not
 * mean the OOM killer (the guide's reading); the OOM is named by PyTorch's line or by the killed-scheduler line.
 */
export const LOG_TRIAGE_RULES: readonly TriageRule[] = [
  {
    id: 'engine-oom',
    title: 'CUDA out of memory: SGLang died (code -9)',
    severity: 'error',
    likelyCause:
      "Out of memory: PyTorch's CUDA OOM in the scheduler (the memory the static fraction leaves is too small); SGLang then ends itself (code -9)",
    resolution: 'Lower --mem-fraction-static (e.g. 0.88 → 0.85)',
    guideSection: '§17 Log triage',
    logPatterns: [OOM_LINE],
    isEngineDeath: true,
    fix: memFractionFix,
  },
  {
    id: 'scheduler-killed',
    title: "SGLang's scheduler process was killed (SIGKILL) from outside",
    severity: 'error',
    likelyCause:
      "Something SIGKILLed the scheduler child: the host's OOM killer (host memory, not the GPU's) or an operator's kill -9; " +
      'SGLang then ends itself (code -9). The engine logged no CUDA OOM',
    resolution:
      "Look in the host's kernel log (dmesg) for the OOM killer: if it killed sglang::scheduler, give the container more " +
      'host memory; if nobody ran out of memory, find who stopped it (a manual kill, a platform stop)',
    guideSection: '§17 Log triage',
    logPatterns: [SCHEDULER_KILLED_LINE],
    isEngineDeath: true,
    suppressedBy: { ruleIds: ['engine-oom'] },
    fix: "find what killed sglang::scheduler: the host's OOM killer (dmesg) or a person; no CUDA OOM was logged",
  },
  {
    id: 'killed-from-outside',
    title: 'The engine was killed from outside (SIGKILL, code -9), not by its own exit path',
    severity: 'error',
    likelyCause:
      "Code -9 with none of SGLang's exit lines (no kill_process_tree, no error before it): an operator's kill -9, a " +
      "platform stop, or the host's OOM killer; no OOM line was logged, so nothing points at the spec",
    resolution:
      "Find who stopped the engine (a manual kill, the platform's events, dmesg for the host's OOM killer); if nobody " +
      'did, roll out again',
    guideSection: '§17 Log triage',
    exitCodes: [-9],
    absentLines: [KILL_PROCESS_TREE_LINE],
    isEngineDeath: true,
    maxConfidence: 'likely',
    suppressedBy: {
      ruleIds: ['engine-oom', 'scheduler-killed', 'watchdog-timeout', 'scheduler-exception', 'weights-missing'],
    },
    fix: 'find who killed the engine (a person, the platform, the host OOM killer in dmesg); its log names no cause',
  },
  {
    id: 'platform-kill',
    title: '[monitor] FATAL: SGLang died (code 137)',
    severity: 'error',
    likelyCause: 'SIGKILL / platform kill (timeout, manual stop or scaledown)',
    resolution: 'Review the Modal timeout, manual stops and scaledown_window',
    guideSection: '§17 Log triage',
    exitCodes: [137],
    isEngineDeath: true,
    maxConfidence: 'likely',
    fix: 'find what stopped the engine (the Modal timeout, a manual stop, scaledown_window); its log names no cause',
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
    isEngineDeath: true,
    fix: 'set --watchdog-timeout 1200 in sglang.args, then find the stalled step in the Scheduler debug info',
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
    isEngineDeath: true,
    fix: "fix what the exception's last line names (a restart alone hits it again)",
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
    requiresLine: [KILL_PROCESS_TREE_LINE],
    suppressedBy: {
      ruleIds: [
        'engine-oom',
        'scheduler-killed',
        'watchdog-timeout',
        'scheduler-exception',
        'weights-missing',
        'sigterm-shutdown',
      ],
    },
    isEngineDeath: true,
    maxConfidence: 'possible',
    fix: 'read the engine lines just before `kill_process_tree called`: they name why SGLang ended itself',
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
    stages: ['start-up', 'first-requests'],
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
