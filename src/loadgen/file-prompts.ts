import * as fs from 'node:fs';
import * as z from 'zod';
import { estimateTokens, type BenchMessage, type BenchPrompt } from './bench-prompt';
import type { SeededRandom } from '../random/seeded-random';

/** A dataset file that cannot be used; the message names the file, the line or entry, and the field. */
export class BenchDatasetError extends Error {
  override readonly name = 'BenchDatasetError';
}

// ShareGPT's shape, as bench_serving reads it: `conversations` (or `conversation`) turns; the first is the prompt,
// the second the reply whose length is the output length.
const ShareGptEntry = z.looseObject({
  conversations: z.array(z.looseObject({ value: z.string() })).optional(),
  conversation: z.array(z.looseObject({ value: z.string() })).optional(),
});

const OutputLength = {
  max_tokens: z.number().int().positive().optional(),
  output_len: z.number().int().positive().optional(),
};
// A JSONL line may also be an OpenAI `messages` array or a bare `prompt`, with an optional output length.
const MessagesEntry = z.looseObject({
  messages: z.array(z.looseObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  ...OutputLength,
});
const PromptEntry = z.looseObject({ prompt: z.string().min(1), ...OutputLength });

/**
 * The prompts of a ShareGPT JSON file (an array) or a JSONL file (one entry a line), shuffled with the seed and
 * repeated to `count` when the file has fewer. Entries with fewer than two turns are skipped, as bench_serving
 * does; `outputLen` fixes every output length (bench_serving's `--sharegpt-output-len`).
 */
export function filePrompts(
  kind: 'sharegpt' | 'jsonl',
  file: string,
  count: number,
  random: SeededRandom,
  outputLen?: number,
): BenchPrompt[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BenchDatasetError(`--dataset-path ${file}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  const entries =
    kind === 'sharegpt' && text.trimStart().startsWith('[') ? parseArray(file, text) : parseLines(file, text);
  const prompts = entries.flatMap(({ entry, where }) => toPrompt(entry, where, outputLen));
  if (prompts.length === 0)
    throw new BenchDatasetError(`--dataset-path ${file}: no usable entry (a prompt and a reply)`);
  shuffle(prompts, random);
  return Array.from({ length: count }, (_, i) => prompts[i % prompts.length]!);
}

function parseArray(file: string, text: string): Array<{ entry: unknown; where: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BenchDatasetError(`--dataset-path ${file}: not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new BenchDatasetError(`--dataset-path ${file}: a ShareGPT file is a JSON array`);
  return parsed.map((entry, i) => ({ entry, where: `${file} entry ${i}` }));
}

function parseLines(file: string, text: string): Array<{ entry: unknown; where: string }> {
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [{ entry: JSON.parse(line) as unknown, where: `${file} line ${i + 1}` }];
    } catch (err) {
      throw new BenchDatasetError(`--dataset-path ${file} line ${i + 1}: not JSON (${(err as Error).message})`);
    }
  });
}

function toPrompt(entry: unknown, where: string, fixedOutput?: number): BenchPrompt[] {
  const withMessages = MessagesEntry.safeParse(entry);
  if (withMessages.success) {
    const { messages, output_len, max_tokens } = withMessages.data;
    return [prompt(messages as BenchMessage[], fixedOutput ?? output_len ?? max_tokens ?? DEFAULT_OUTPUT_LEN)];
  }
  const withPrompt = PromptEntry.safeParse(entry);
  if (withPrompt.success) {
    const { prompt: text, output_len, max_tokens } = withPrompt.data;
    return [prompt([{ role: 'user', content: text }], fixedOutput ?? output_len ?? max_tokens ?? DEFAULT_OUTPUT_LEN)];
  }
  const shareGpt = ShareGptEntry.safeParse(entry);
  const turns = shareGpt.success ? (shareGpt.data.conversations ?? shareGpt.data.conversation) : undefined;
  if (!turns) {
    const issue = (isObject(entry) && 'messages' in entry ? withMessages : withPrompt).error?.issues[0];
    const detail =
      isObject(entry) && ('messages' in entry || 'prompt' in entry) && issue
        ? `: ${issue.path.join('.')}: ${issue.message}`
        : '';
    throw new BenchDatasetError(`${where}: expected "conversations", "messages" or "prompt"${detail}`);
  }
  if (turns.length < 2) return [];
  const [question, reply] = [turns[0]!.value, turns[1]!.value];
  const outputLen = fixedOutput ?? estimateTokens(reply);
  // bench_serving prunes prompts or replies shorter than two tokens.
  if (estimateTokens(question) < 2 || outputLen < 2) return [];
  return [prompt([{ role: 'user', content: question }], outputLen)];
}

/** The output length of a `messages` or `prompt` entry that names none. */
const DEFAULT_OUTPUT_LEN = 256;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function prompt(messages: BenchMessage[], outputLen: number): BenchPrompt {
  return { messages, outputLen, promptTokens: estimateTokens(messages.map((m) => m.content).join('')), extraBody: {} };
}

function shuffle<T>(items: T[], random: SeededRandom): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
