import { SeededRandom } from '../random/seeded-random';

/** GLM's special tokens the emulated model writes; their ids sit at the top of the vocabulary as in GLM's. */
export const SPECIAL_TOKENS = [
  '<think>',
  '</think>',
  '<tool_call>',
  '</tool_call>',
  '<arg_key>',
  '</arg_key>',
  '<arg_value>',
  '</arg_value>',
] as const;

/**
 * Token ids for the emulator's text pieces: stable (a hash of the text) so `/generate`'s `output_ids` and logprobs
 * repeat for equal outputs. There is no real vocabulary behind them; ids only have to be integers in range.
 */
export class EmulatedVocab {
  constructor(
    private readonly vocabSize: number,
    private readonly eosIds: readonly number[],
  ) {}

  /** The id of a generated piece (0 for the EOS piece, whose id is the model's first EOS id). */
  idOf(text: string, isEos = false): number {
    if (isEos) return this.eosIds[0] ?? 0;
    const special = SPECIAL_TOKENS.indexOf(text as (typeof SPECIAL_TOKENS)[number]);
    if (special >= 0) return Math.max(0, Math.min(...this.eosIds, this.vocabSize) - 40 + special);
    const rng = SeededRandom.fromText(text, 7);
    return rng.int(100, Math.max(101, Math.min(this.vocabSize, 150_000) - 1000));
  }

  /** A plausible log-probability for a chosen piece and its runners-up (deterministic per piece and position). */
  logprobs(text: string, position: number, top: number): { logprob: number; alternatives: Array<[string, number]> } {
    const rng = SeededRandom.fromText(`${position}:${text}`, 11);
    const logprob = -Math.round(rng.next() * 2_000_000) / 1_000_000;
    const alternatives: Array<[string, number]> = [[text, logprob]];
    let last = logprob;
    for (let i = 1; i < top; i++) {
      last -= 0.5 + rng.next() * 3;
      alternatives.push([ALTERNATIVES[rng.int(0, ALTERNATIVES.length - 1)] as string, Math.round(last * 1e6) / 1e6]);
    }
    return { logprob, alternatives };
  }
}

const ALTERNATIVES = [' the', ' a', ',', '.', ' and', ' to', ' of', ' is', ' in', ' I'];

/** The UTF-8 bytes of a piece, as OpenAI's logprobs `bytes` field lists them. */
export function utf8Bytes(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}
