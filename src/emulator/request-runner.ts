import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ModelToken } from './completion-plan';
import type { Engine } from './engine';
import { recordAborted, recordFinished, recordInterToken } from './request-metrics';
import { SeededRandom } from '../random/seeded-random';
import { noteStep } from './serving-stats';
import { kvReservation } from './kv-pool';
import { type DecodeStep, decodeProfile, planSteps, planTiming, type RequestTiming } from './timing-model';

export type { RequestTiming } from './timing-model';

/** What `reportTiming` adds to a reply: the plan, and how late the first write was against it. */
export interface TimingReport extends RequestTiming {
  firstTokenLateMs: number;
  /** The part of the queue time spent waiting for a decode slot (0 when one was free). */
  slotWaitMs: number;
  arrivalEpochMs: number;
  /** When the request got its decode slot (arrival + queue wait). */
  admittedEpochMs: number;
  firstWriteEpochMs: number;
  /** When the last token was written (the end of the request's E2E latency at the server). */
  finishedEpochMs: number;
  /** Tokens delivered, and the decode steps after the prefill token that delivered them (EAGLE verify steps). */
  outputTokens: number;
  decodeSteps: number;
  /** GLM_OPS_EMULATOR_TIME_SCALE: the plan's figures ÷ this = the guide's milliseconds. */
  timeScale: number;
}

/** One choice's generation as the scheduler runs it. */
export interface GenerationJob {
  /** The tokens it will produce, already cut by max tokens and stop strings (EOS included when it stops on it). */
  tokens: ModelToken[];
  promptTokens: number;
  /** Seeds the EAGLE accept lengths, so equal requests get equal step sizes. */
  seedText: string;
  isStreaming: boolean;
}

/** Whether the client is still there; `closed` resolves when it leaves. */
export interface ClientPresence {
  isClosed(): boolean;
  closed: Promise<void>;
}

/** How a generation ended: every token delivered, or the client/engine went away first. */
export type GenerationResult = { completed: true; timing: TimingReport; e2eMs: number } | { completed: false };

/**
 * Runs one generation through the emulated scheduler: waits for a decode slot (`--max-running-requests`) and KV room
 * for its prompt and output (`kvReservation`), pays
 * prefill, then delivers the tokens in decode steps on the TPOT grid (EAGLE verify steps of 3–4 tokens), calling
 * `onStep` with each step's tokens as they are due. Metrics and KV usage are kept as SGLang keeps them.
 */
export async function runGeneration(
  engine: Engine,
  job: GenerationJob,
  arrivalMs: number,
  client: ClientPresence,
  onStep: (tokens: ModelToken[], stepIndex: number) => void,
): Promise<GenerationResult> {
  const enqueuedMs = performance.now();
  const ticket = engine.scheduler.enqueue(kvReservation(job.promptTokens, job.tokens.length, engine.maxTotalNumTokens));
  let heldTokens = 0;
  let generated = 0;
  const abort = (): GenerationResult => {
    recordAborted(engine, generated, job.isStreaming);
    return { completed: false };
  };
  try {
    await Promise.race([ticket.granted, client.closed]);
    if (client.isClosed() || engine.isGone) return abort();
    const admittedMs = performance.now();
    const timing = planTiming(engine.settings.config.timing, {
      promptTokens: job.promptTokens,
      queueMs: admittedMs - arrivalMs,
      running: engine.scheduler.running,
      isSpeculative: engine.isSpeculative,
      speculative: engine.capacity.speculative,
      timeScale: requestTimeScale(engine),
    });
    heldTokens = job.promptTokens;
    engine.usedTokens += heldTokens;
    const steps = decodeSteps(engine, job, timing.tpotMs);
    const firstTokenMs = admittedMs + (timing.ttftMs - timing.queueMs);
    let previousMs = firstTokenMs;
    let firstWriteLateMs = 0;
    for (const [stepIndex, step] of steps.entries()) {
      const dueMs = firstTokenMs + step.atMs;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await Promise.race([sleepMs(waitMs), client.closed]);
      // A wedged scheduler produces nothing more; the request lives until the client gives up.
      if (engine.hang !== 'none') await client.closed;
      if (client.isClosed() || engine.isGone) return abort();
      generated += step.tokens.length;
      engine.usedTokens += step.tokens.length;
      heldTokens += step.tokens.length;
      const isPrefill = stepIndex === 0;
      // The prefill step yields one token; only verify steps feed gen_throughput's accept length.
      engine.recordStep(step.tokens.length, !isPrefill);
      noteStep(engine, step.tokens.length, !isPrefill);
      if (isPrefill) engine.logPrefillBatch(job.promptTokens, 0, (dueMs - admittedMs) / 1000);
      else {
        engine.noteDecodeStep(step.tokens.length);
        recordInterToken(engine, (dueMs - previousMs) / 1000, step.tokens.length, job.isStreaming);
      }
      previousMs = dueMs;
      onStep(step.tokens, stepIndex);
      if (isPrefill) firstWriteLateMs = performance.now() - firstTokenMs;
    }
    const endMs = performance.now();
    recordFinished(engine, {
      promptTokens: job.promptTokens,
      generationTokens: job.tokens.length,
      ttftS: (firstTokenMs - arrivalMs) / 1000,
      e2eS: (endMs - arrivalMs) / 1000,
      queueS: timing.queueMs / 1000,
      isStreaming: job.isStreaming,
    });
    return {
      completed: true,
      e2eMs: endMs - arrivalMs,
      timing: {
        ...timing,
        firstTokenLateMs: firstWriteLateMs,
        slotWaitMs: ticket.wasQueued ? admittedMs - enqueuedMs : 0,
        arrivalEpochMs: performance.timeOrigin + arrivalMs,
        admittedEpochMs: performance.timeOrigin + admittedMs,
        firstWriteEpochMs: performance.timeOrigin + firstTokenMs + firstWriteLateMs,
        finishedEpochMs: performance.timeOrigin + endMs,
        outputTokens: generated,
        decodeSteps: Math.max(0, steps.length - 1),
        timeScale: requestTimeScale(engine),
      },
    };
  } finally {
    ticket.release();
    engine.usedTokens -= heldTokens;
  }
}

/** The job's tokens in decode steps on the TPOT grid, the EAGLE accept lengths seeded by the request's text. */
function decodeSteps(engine: Engine, job: GenerationJob, tpotMs: number): Array<DecodeStep<ModelToken>> {
  const profile = decodeProfile(engine.settings.config.timing, engine.isSpeculative, engine.capacity.speculative);
  const rng = SeededRandom.fromText(job.seedText, engine.settings.config.seed + 1);
  return planSteps(job.tokens, {
    tpotMs,
    isSpeculative: engine.isSpeculative,
    maxAccept: profile.maxAccept,
    meanAccept: profile.meanAccept,
    random: () => rng.next(),
  });
}

/** The time scale of request timing: the config's `timing.timeScale`, else the process's. */
export function requestTimeScale(engine: Engine): number {
  return engine.settings.config.timing.timeScale ?? engine.settings.timeScale;
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Watches a response for the client going away (a closed socket ends the generation and frees its slot). */
export function presenceOf(res: ServerResponse): ClientPresence {
  let isClosed = false;
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  res.on('close', () => {
    isClosed = true;
    onClosed();
  });
  return { isClosed: () => isClosed, closed };
}

/**
 * The `emulator_timing` block `reportTiming` adds to the final chunk (or the JSON reply): the model's plan for the
 * request, the ground truth a load generator compares its own measurements with. Durations are wall-clock ms (the
 * guide's ms × `time_scale`); TTFT counts from the request's arrival at the server, so a client's TTFT minus this
 * one is the client's overhead plus the transport.
 */
export function timingBody(report: TimingReport): Record<string, number> {
  return {
    queue_ms: report.queueMs,
    slot_wait_ms: report.slotWaitMs,
    prefill_ms: report.prefillMs,
    verify_wait_ms: report.verifyWaitMs,
    ttft_ms: report.ttftMs,
    tpot_ms: report.tpotMs,
    running: report.running,
    output_tokens: report.outputTokens,
    decode_steps: report.decodeSteps,
    time_scale: report.timeScale,
    first_token_late_ms: report.firstTokenLateMs,
    arrival_epoch_ms: report.arrivalEpochMs,
    admitted_epoch_ms: report.admittedEpochMs,
    first_write_epoch_ms: report.firstWriteEpochMs,
    finished_epoch_ms: report.finishedEpochMs,
  };
}
