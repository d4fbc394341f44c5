import { linePredicate, type TriageRule } from './triage-rule';

const HEALTH_PASSED = /\[health\] passed on attempt (\d+)\b/;

function healthAttemptAtLeast(minimum: number, maximum = Infinity) {
  return linePredicate((line) => {
    const match = HEALTH_PASSED.exec(line);
    if (!match) return false;
    const attempt = Number(match[1]);
    return attempt >= minimum && attempt <= maximum;
  });
}

const OOM_LINE = /CUDA out of memory|OutOfMemoryError/i;

/**
 * Guide §17 log triage (pattern → meaning → action), plus the watchdog kill of §5/§13 that would otherwise read
 * as an OOM (both end in SIGKILL, code -9).
 */
export const LOG_TRIAGE_RULES: readonly TriageRule[] = [
  {
    id: 'engine-oom',
    title: '[monitor] FATAL: SGLang died (code -9)',
    severity: 'error',
    likelyCause: 'OOM killer: the engine ran out of GPU/host memory and was killed (code -9)',
    resolution: 'Lower --mem-fraction-static (e.g. 0.88 → 0.85)',
    guideSection: '§17 Log triage',
    logPatterns: [OOM_LINE],
    exitCodes: [-9],
    suppressedBy: { ruleIds: ['watchdog-timeout'], unlessLine: OOM_LINE },
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
    title: 'SGLang watchdog killed the engine mid-load',
    severity: 'error',
    likelyCause: 'The default watchdog window is shorter than staging ~700 GB of weights from the volume',
    resolution: 'Set --watchdog-timeout 1200 in _build_sglang_cmd (as the reference deploy.py does)',
    guideSection: '§5 Stability, §13 Deployment review',
    logPatterns: [/watchdog timeout/i],
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
    logPatterns: [/DeepGEMM \/ compile success/, /DeepGEMM: loaded precompiled kernels/],
  },
];
