/** The names of the guide's four warmup completions (§6/§7: chat, no-thinking, long context, tools). */
export type WarmupName = 'plain-chat' | 'thinking-off' | 'long-context' | 'tool-call';

/** A chat message of a warmup body (the subset of OpenAI's shape the warmups use). */
export interface WarmupMessage {
  role: 'system' | 'user';
  content: string;
}

/** An OpenAI function tool, as the tool-call warmup sends it. */
export interface WarmupTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** The body of one warmup completion without `model`, which the sender fills in with the served name. */
export interface WarmupBody {
  messages: WarmupMessage[];
  max_tokens: number;
  chat_template_kwargs?: Record<string, unknown>;
  tools?: WarmupTool[];
}

/** One warmup completion: a name and the body it sends. */
export interface WarmupRequest {
  name: WarmupName;
  /** What CUDA-graph path it exercises, for logs and the UI. */
  purpose: string;
  body: WarmupBody;
}

const WEATHER_TOOL: WarmupTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' } },
      required: ['city'],
    },
  },
};

/** About 6k prompt tokens: past the 4k boundary where a long-context prefill needs its own CUDA graph. */
const LONG_DOCUMENT = Array.from(
  { length: 240 },
  (_, i) => `Section ${i + 1}: the deployment keeps weights on a volume, compiles kernels once, and serves traffic.`,
).join('\n');

/**
 * The guide's four diverse warmup completions, each capturing a different CUDA graph on first use. The local
 * platform's activity sends them and modal/deploy.py reads them from the rendered deploy config, so both warm the
 * same paths.
 */
export const WARMUP_REQUESTS: readonly WarmupRequest[] = [
  {
    name: 'plain-chat',
    purpose: 'plain chat with thinking on (the template default)',
    body: { messages: [{ role: 'user', content: 'Hello! In two sentences, what does a GPU do?' }], max_tokens: 64 },
  },
  {
    name: 'thinking-off',
    purpose: 'thinking disabled via chat_template_kwargs.enable_thinking=false',
    body: {
      messages: [{ role: 'user', content: 'Reply with a one-line greeting.' }],
      max_tokens: 32,
      chat_template_kwargs: { enable_thinking: false },
    },
  },
  {
    name: 'long-context',
    purpose: 'long-context prefill (~6k prompt tokens)',
    body: {
      messages: [
        { role: 'system', content: 'You summarise documents.' },
        { role: 'user', content: `${LONG_DOCUMENT}\n\nSummarise the document above in one sentence.` },
      ],
      max_tokens: 32,
    },
  },
  {
    name: 'tool-call',
    purpose: 'tool-call path (tools array, tool parser)',
    body: {
      messages: [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }],
      tools: [WEATHER_TOOL],
      max_tokens: 128,
    },
  },
];
