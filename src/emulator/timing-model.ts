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
  /** Wall-clock ms per ms of the guide's real time (GLM_OPS_EMULATOR_TIME_SCALE). */
  timeScale: number;
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
 * EAGLE's or plain decoding's (§2), growing with the requests decoding alongside and faster past the verify cap.
 * Fixed at admission from the running count then. Pure: the constants and inputs in, the plan out.
 */
export function planTiming(constants: TimingConstants, inputs: TimingInputs): RequestTiming {
  const prefillMs = constants.ttftBaseMs + constants.prefillMsPerToken * inputs.promptTokens;
  const overCap = requestsPastVerifyCap(constants, inputs.running, inputs.isSpeculative);
  const verifyWaitMs = constants.verifyQueueMsPerRequest * overCap;
  const baseTpot = inputs.isSpeculative ? constants.tpotEagleMs : constants.tpotPlainMs;
  const load = 1 + constants.tpotLoadSlope * Math.max(0, inputs.running - 1) + constants.tpotOverCapSlope * overCap;
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
