import { estimateStartup } from '../spec/startup-estimate';
import type { Spec } from '../spec/schema';
import { sloConcurrency, sloRequestCount, type SloLoad } from '../spec/slo-schema';

// What one trial costs before any has run, so a GPU-hour or dollar budget can refuse a first trial it cannot pay
// for. Later trials are priced by the workflow from the ones done; this is only the opening guess, at the guide's
// times (the twin bills its scaled start-up at the guide's time too, so both platforms get the same guess).

/** TTFT and TPOT of a request at the guide's figures (§10: ~246 ms TTFT; ~20 ms TPOT without EAGLE, the slow case). */
const GUIDE_TTFT_SEC = 0.3;
const GUIDE_TPOT_SEC = 0.02;
/** Output tokens assumed for a dataset whose lengths glm-ops cannot know ahead (a ShareGPT or JSONL file). */
const UNKNOWN_OUTPUT_TOKENS = 256;
/** The guide's four warm-up chat completions, short answers (§6). */
const WARMUP_OUTPUT_TOKENS = 64;

/**
 * Seconds one trial takes at the guide's times: the spec's cold start (the high estimate, as on Modal: provision,
 * weight load, graph capture, warm-up; guide §7, §10), then the workload's requests in rounds of its concurrency
 * (or at its request rate), each TTFT plus its output tokens at the autoregressive TPOT.
 */
export function trialEstimateSec(spec: Spec, workload: SloLoad): number {
  const startup = estimateStartup({ ...spec, platform: 'modal' }).totalHighSeconds;
  const requests = sloRequestCount(workload) + workload.warmupRequests;
  const outputTokens =
    workload.dataset.name === 'random'
      ? workload.dataset.outputLen
      : workload.dataset.name === 'warmup'
        ? WARMUP_OUTPUT_TOKENS
        : UNKNOWN_OUTPUT_TOKENS;
  const requestSec = GUIDE_TTFT_SEC + outputTokens * GUIDE_TPOT_SEC;
  const concurrency = sloConcurrency(workload);
  const byConcurrency = concurrency === undefined ? 0 : Math.ceil(requests / concurrency) * requestSec;
  const byRate = workload.requestRate === undefined ? 0 : requests / workload.requestRate + requestSec;
  return Math.ceil(startup + Math.max(byConcurrency, byRate));
}
