/**
 * What one benchmark request measured, in the terms of bench_serving's `RequestFuncOutput`: times in seconds from
 * the client's monotonic clock, token counts from the server's `usage`.
 */
export interface RequestRecord {
  /** HTTP 200, a complete stream and at least one output chunk. */
  success: boolean;
  /** Why it failed (HTTP status and body head, transport error); never holds the API key. */
  error?: string;
  /** When the request was sent (seconds, `performance.now()` / 1000). */
  startTime: number;
  /** Send → first chunk carrying non-empty content, reasoning_content or tool-call text. */
  ttft: number;
  /** Send → the stream's last event (`[DONE]`). */
  latency: number;
  /** Gaps between consecutive output chunks after the first (seconds). */
  itl: number[];
  /**
   * How many tokens each chunk of `itl` carried (same length as `itl`). Speculative decoding sends several tokens
   * per chunk; each gap is then spread over its tokens, as bench_serving does when the server reports an accept
   * length.
   */
  chunkTokens: number[];
  /** `usage.completion_tokens`, else the number of output chunks. */
  outputTokens: number;
  /** `usage.prompt_tokens`, else the dataset's estimate of the prompt. */
  promptTokens: number;
  /** The emulator's own model timing of the request (`emulator_timing`, when configured): benchmarks' ground truth. */
  serverTiming?: unknown;
}
