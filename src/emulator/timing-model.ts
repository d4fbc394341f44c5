import type * as z from 'zod';
import type { TimingModel } from './emulator-config';

/** The guide's timing constants (§2, §10, §18), as the emulator config holds them. */
export type TimingConstants = z.output<typeof TimingModel>;

/** The model's timing for one request, in wall-clock ms (already time-scaled). */
export interface RequestTiming {
  /** Arrival → admission, measured: reading and checking the body, then the wait for a decode slot (`--max-running-requests`). */
  queueMs: number;
  /** Prefill: the base plus the prompt's cost. */
  prefillMs: number;
  /** Waiting behind the EAGLE verify backlog (running requests past `verifyBatchCap`). */
  verifyWaitMs: number;
  /** queue + prefill + verify wait: arrival → first token. */
  ttftMs: number;
  tpotMs: number;
  /** Requests decoding when it was admitted, itself included. */
  running: number;
}

/** What one request's timing depends on besides the constants. */
export interface TimingInputs {
  promptTokens: number;
  /** Wall-clock ms the request waited for a decode slot (measured, so not scaled again). */
  queueMs: number;
  /** Requests decoding when it was admitted, itself included. */
  running: number;
  isSpeculative: boolean;
  /** The EAGLE settings (`--speculative-num-steps` …); the guide's 3 / 1 / 4 when absent. Ignored without EAGLE. */
  speculative?: SpeculativeSettings;
  /** Wall-clock ms per ms of the guide's real time (GLM_OPS_EMULATOR_TIME_SCALE). */
  timeScale: number;
}

/** EAGLE's launch settings, as SGLang resolves them. */
export interface SpeculativeSettings {
  /** `--speculative-num-steps`: draft forwards per verify step, the depth of the draft. */
  numSteps: number;
  /** `--speculative-eagle-topk`: branches per draft position (1 = a chain). */
  topk: number;
  /** `--speculative-num-draft-tokens`: tokens the target verifies per request per step (steps + 1 when topk is 1). */
  numDraftTokens: number;
}

/** The guide's EAGLE flags (§2): `--speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4`. */
export const GUIDE_SPECULATIVE: SpeculativeSettings = { numSteps: 3, topk: 1, numDraftTokens: 4 };

/**
 * The settings SGLang runs with: its auto-choice for GLM/DeepSeek-style models when the steps are unset (3, 1, 4),
 * and with topk 1 the draft tokens forced to steps + 1 (server_args: "speculative_num_draft_tokens is adjusted to
 * speculative_num_steps + 1 when speculative_eagle_topk == 1").
 */
export function resolveSpeculative(given: {
  numSteps?: number | undefined;
  topk?: number | undefined;
  numDraftTokens?: number | undefined;
}): SpeculativeSettings & { isDraftTokensAdjusted: boolean } {
  const numSteps = Math.max(1, given.numSteps ?? GUIDE_SPECULATIVE.numSteps);
  const topk = Math.max(1, given.topk ?? GUIDE_SPECULATIVE.topk);
  const asked =
    given.numDraftTokens ?? (given.numSteps === undefined ? GUIDE_SPECULATIVE.numDraftTokens : numSteps + 1);
  const numDraftTokens = topk === 1 ? numSteps + 1 : Math.max(2, asked);
  return { numSteps, topk, numDraftTokens, isDraftTokensAdjusted: topk === 1 && asked !== numSteps + 1 };
}

/** How one request decodes at batch 1: TPOT, the accept lengths of its verify steps, how fast the batch slows it. */
export interface DecodeProfile {
  /** TPOT of one request alone (a verify step's time ÷ its mean accept length with EAGLE). */
  tpotMs: number;
  /** Tokens a verify step accepts on average (1 without EAGLE). */
  meanAccept: number;
  /** The most one step can accept: the draft depth + the bonus token (`--speculative-num-steps` + 1). */
  maxAccept: number;
  /** Multiplies `tpotLoadSlope`: the verify pass handles draft tokens × running, so more drafts cost more per request. */
  loadScale: number;
}

/**
 * Decoding speed from the launch settings. Without EAGLE: `tpotPlainMs`, one token per step. With EAGLE a verify step
 * is one target forward (`tpotPlainMs`) plus, per extra draft token, a draft forward and one more verified token: the
 * guide's 7.7 ms TPOT at accept 3.5 with 3 steps / 4 draft tokens fixes that cost (27 ms a step → 2.3 ms a draft
 * token). A step accepts 1 + α + α² + … + α^steps tokens on average, α the per-position acceptance rate the guide's
 * 3.5 at 3 steps implies (≈ 0.91, an estimate held constant with depth); a tree (topk > 1) raises α to
 * 1 − (1 − α)^branches. So deeper drafts accept more but cost more, and more draft tokens slow the batch
 * (`loadScale`: the verify pass handles running × draft tokens). At the guide's flags this is exactly `tpotEagleMs`
 * and `acceptLength`.
 */
export function decodeProfile(
  constants: TimingConstants,
  isSpeculative: boolean,
  settings: SpeculativeSettings = GUIDE_SPECULATIVE,
): DecodeProfile {
  if (!isSpeculative) return { tpotMs: constants.tpotPlainMs, meanAccept: 1, maxAccept: 1, loadScale: 1 };
  const guide = GUIDE_SPECULATIVE;
  const alpha = perPositionAcceptance(constants.acceptLength, guide.numSteps);
  const guideStepMs = constants.tpotEagleMs * chainAccept(alpha, guide.numSteps);
  const perDraftTokenMs = Math.max(0, (guideStepMs - constants.tpotPlainMs) / (guide.numDraftTokens - 1));
  const branches = Math.max(1, Math.min(settings.topk, Math.floor((settings.numDraftTokens - 1) / settings.numSteps)));
  const meanAccept = chainAccept(1 - (1 - alpha) ** branches, settings.numSteps);
  const stepMs = constants.tpotPlainMs + perDraftTokenMs * (settings.numDraftTokens - 1);
  return {
    tpotMs: stepMs / meanAccept,
    meanAccept,
    maxAccept: settings.numSteps + 1,
    loadScale: settings.numDraftTokens / guide.numDraftTokens,
  };
}

/** 1 + α + α² + … + α^depth: the mean tokens a chain draft of that depth yields, the bonus token included. */
function chainAccept(alpha: number, depth: number): number {
  let sum = 1;
  let term = 1;
  for (let i = 0; i < depth; i++) {
    term *= alpha;
    sum += term;
  }
  return sum;
}

/** The α for which a chain of `depth` accepts `mean` tokens on average (bisection; the sum rises with α). */
function perPositionAcceptance(mean: number, depth: number): number {
  if (mean >= depth + 1) return 1;
  if (mean <= 1) return 0;
  let low = 0;
  let high = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (chainAccept(mid, depth) < mean) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** One decode step: the tokens it delivers and when, as an offset from the first token in wall-clock ms. */
export interface DecodeStep<T> {
  atMs: number;
  tokens: T[];
}

/** How tokens are grouped into steps; `random` draws the EAGLE accept lengths (seeded by the caller). */
export interface StepOptions {
  tpotMs: number;
  isSpeculative: boolean;
  /** The most tokens one verify step can accept (`--speculative-num-steps` + 1). */
  maxAccept: number;
  /** The mean accept length (the constants' acceptLength, capped at maxAccept). */
  meanAccept: number;
  random: () => number;
}

/**
 * The timing model: TTFT is the queue wait plus prefill (a base plus a cost per prompt token, §10) plus, with EAGLE
 * and more requests running than one verify pass takes, the wait behind the verify backlog (§1, §18); TPOT is
 * EAGLE's (for its settings: `decodeProfile`) or plain decoding's (§2), growing with the requests decoding alongside
 * and faster past the verify cap. Fixed at admission from the running count then. Pure: the constants and inputs in, the plan out.
 */
export function planTiming(constants: TimingConstants, inputs: TimingInputs): RequestTiming {
  const prefillMs = constants.ttftBaseMs + constants.prefillMsPerToken * inputs.promptTokens;
  const overCap = requestsPastVerifyCap(constants, inputs.running, inputs.isSpeculative);
  const verifyWaitMs = constants.verifyQueueMsPerRequest * overCap;
  const profile = decodeProfile(constants, inputs.isSpeculative, inputs.speculative);
  const baseTpot = profile.tpotMs;
  const load =
    1 +
    constants.tpotLoadSlope * profile.loadScale * Math.max(0, inputs.running - 1) +
    constants.tpotOverCapSlope * overCap;
  return {
    queueMs: inputs.queueMs,
    prefillMs: prefillMs * inputs.timeScale,
    verifyWaitMs: verifyWaitMs * inputs.timeScale,
    ttftMs: inputs.queueMs + (prefillMs + verifyWaitMs) * inputs.timeScale,
    tpotMs: baseTpot * load * inputs.timeScale,
    running: inputs.running,
  };
}

/** Running requests beyond what one EAGLE verify pass takes; 0 without speculative decoding or with the cap off. */
export function requestsPastVerifyCap(constants: TimingConstants, running: number, isSpeculative: boolean): number {
  if (!isSpeculative || constants.verifyBatchCap === 0) return 0;
  return Math.max(0, running - constants.verifyBatchCap);
}

/**
 * Groups tokens into decode steps: the prefill step yields the first token at offset 0; then one token per step
 * without EAGLE, and accept-length runs with it (two neighbouring lengths mixed to the configured mean). A step's
 * tokens land when its last one is due, so (latency - TTFT) / (n - 1) equals TPOT exactly.
 */
export function planSteps<T>(tokens: readonly T[], options: StepOptions): Array<DecodeStep<T>> {
  const steps: Array<DecodeStep<T>> = [];
  if (tokens.length === 0) return steps;
  steps.push({ atMs: 0, tokens: [tokens[0] as T] });
  let index = 1;
  while (index < tokens.length) {
    const size = options.isSpeculative ? acceptLength(options.random, options.meanAccept, options.maxAccept) : 1;
    const last = Math.min(tokens.length - 1, index + size - 1);
    steps.push({ atMs: last * options.tpotMs, tokens: tokens.slice(index, last + 1) });
    index = last + 1;
  }
  return steps;
}

function acceptLength(random: () => number, mean: number, max: number): number {
  const low = Math.floor(mean);
  const high = Math.min(max, low + 1);
  return random() < mean - low ? high : low;
}
