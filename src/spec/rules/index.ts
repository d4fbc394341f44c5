import type { LintRule } from '../finding';
import { eagleMaxRunningRequests } from './eagle-max-running-requests';
import { fp8KvOnBlackwell } from './fp8-kv-on-blackwell';
import { fp8KvWithEagle } from './fp8-kv-with-eagle';
import { healthTimeoutShorterThanStartup } from './health-timeout-shorter-than-startup';
import { keepWarmGap } from './keep-warm-gap';
import { keepWarmScheduleInvalid } from './keep-warm-schedule-invalid';
import { kernelCacheMismatch } from './kernel-cache-mismatch';
import { kvHeadroom } from './kv-headroom';
import { maxInputsBelowRunningRequests } from './max-inputs-below-running-requests';
import { maxTotalTokensKvPool } from './max-total-tokens-kv-pool';
import { memFractionAboveMax } from './mem-fraction-above-max';
import { memFractionNotTightened } from './mem-fraction-not-tightened';
import { modalMinAboveMax } from './modal-min-above-max';
import { nsaBackendOnBlackwell } from './nsa-backend-on-blackwell';
import { reasoningParser } from './reasoning-parser';
import { revisionNotPinned } from './revision-not-pinned';
import { sloAcceptLengthWithoutEagle } from './slo-accept-length-without-eagle';
import { sloConcurrencyAboveCapacity } from './slo-concurrency-above-capacity';
import { sloTtftBelowFloor } from './slo-ttft-below-floor';
import { sglangFlagAbbreviation } from './sglang-flag-abbreviation';
import { sglangFlagDeprecated } from './sglang-flag-deprecated';
import { sglangFlagDuplicate } from './sglang-flag-duplicate';
import { sglangFlagReserved } from './sglang-flag-reserved';
import { sglangFlagUnknown } from './sglang-flag-unknown';
import { sglangFlagValue } from './sglang-flag-value';
import { sglangVersionUntabled } from './sglang-version-untabled';
import { toolCallParser } from './tool-call-parser';
import { tpMatchesGpuCount } from './tp-matches-gpu-count';
import { unknownGpuType } from './unknown-gpu-type';
import { warmupTimeoutShorterThanCapture } from './warmup-timeout-shorter-than-capture';
import { watchdogShorterThanLoad } from './watchdog-shorter-than-load';
import { weightsExceedVram } from './weights-exceed-vram';

/** Every lint rule, in the order findings are reported. */
export const LINT_RULES: readonly LintRule[] = [
  sglangVersionUntabled,
  sglangFlagUnknown,
  sglangFlagAbbreviation,
  sglangFlagReserved,
  sglangFlagValue,
  sglangFlagDuplicate,
  sglangFlagDeprecated,
  unknownGpuType,
  fp8KvWithEagle,
  fp8KvOnBlackwell,
  nsaBackendOnBlackwell,
  weightsExceedVram,
  kvHeadroom,
  memFractionAboveMax,
  memFractionNotTightened,
  tpMatchesGpuCount,
  watchdogShorterThanLoad,
  healthTimeoutShorterThanStartup,
  warmupTimeoutShorterThanCapture,
  eagleMaxRunningRequests,
  maxInputsBelowRunningRequests,
  maxTotalTokensKvPool,
  toolCallParser,
  reasoningParser,
  sloAcceptLengthWithoutEagle,
  sloTtftBelowFloor,
  sloConcurrencyAboveCapacity,
  keepWarmScheduleInvalid,
  keepWarmGap,
  modalMinAboveMax,
  kernelCacheMismatch,
  revisionNotPinned,
];
