/** A chat message of a benchmark request (what the datasets produce; tools ride in `extraBody`). */
export interface BenchMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One request of a run, before the model name and the streaming fields are added. */
export interface BenchPrompt {
  messages: BenchMessage[];
  /** Output tokens asked for (`max_completion_tokens`). */
  outputLen: number;
  /** The dataset's estimate of the prompt's tokens; the server's `usage.prompt_tokens` replaces it when sent. */
  promptTokens: number;
  /** Fields of the body beyond messages and length (the warmup's tools and template switches). */
  extraBody: Record<string, unknown>;
}

/** Four characters per token: the rule of thumb for English text in BPE vocabularies, and the emulator's count. */
export const CHARS_PER_TOKEN = 4;

/** A prompt length estimate for text without a tokenizer. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}
