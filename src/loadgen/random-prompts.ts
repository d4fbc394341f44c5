import { CHARS_PER_TOKEN, type BenchPrompt } from './bench-prompt';
import type { SeededRandom } from '../random/seeded-random';

// Common English words, each a single token (with its leading space) in GLM's and most BPE vocabularies. A random
// sequence of them has no shared prefix between requests (no radix-cache hits), like bench_serving's random token
// ids, and it needs no tokenizer here: the prompt is cut at four characters per requested token.
const WORDS = (
  'time year people way day man thing woman life child world school state family student group country problem ' +
  'hand part place case week company system program question work government number night point home water room ' +
  'mother area money story fact month lot right study book eye job word business issue side kind head house ' +
  'service friend father power hour game line end member law car city community name president team minute idea ' +
  'kid body information back parent face others level office door health person art war history party result ' +
  'change morning reason research girl guy moment air teacher force education'
).split(' ');

/** bench_serving's random lengths: uniform integers in [max(⌊full × ratio⌋, 1), full]. */
export function randomLength(full: number, rangeRatio: number, random: SeededRandom): number {
  if (full <= 0) return 0;
  return random.int(Math.max(Math.floor(full * rangeRatio), 1), full);
}

/** `count` random prompts of about `inputLen` tokens asking for about `outputLen` (both drawn with the range ratio). */
export function randomPrompts(
  count: number,
  lengths: { inputLen: number; outputLen: number; rangeRatio: number },
  random: SeededRandom,
): BenchPrompt[] {
  return Array.from({ length: count }, () => {
    const inputTokens = Math.max(1, randomLength(lengths.inputLen, lengths.rangeRatio, random));
    const outputLen = Math.max(1, randomLength(lengths.outputLen, lengths.rangeRatio, random));
    return {
      messages: [{ role: 'user', content: randomText(inputTokens * CHARS_PER_TOKEN, random) }],
      outputLen,
      promptTokens: inputTokens,
      extraBody: {},
    };
  });
}

function randomText(chars: number, random: SeededRandom): string {
  const parts: string[] = [];
  let length = -1; // the joined length: one space fewer than words
  while (length < chars) {
    const word = WORDS[random.int(0, WORDS.length - 1)]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, chars);
}
