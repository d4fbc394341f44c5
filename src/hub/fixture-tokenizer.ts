/**
 * A small GLM-style tokenizer for the fixture checkpoint, in the `tokenizers` library's JSON format: byte-level BPE
 * (every byte is a token, so any text encodes), merges for a few English/JSON words, and GLM's special and added
 * tokens (`[gMASK]`, `<sop>`, role tokens, `<think>`, `<tool_call>`, `<arg_key>`, …). The recordings of the real
 * SGLang server used a tokenizer of this shape (a tiny byte-level BPE with GLM's tokens and chat template), and
 * `tokenizers` / transformers must load it: every added token carries all of its fields.
 */

/** Control tokens GLM marks special (skipped when decoding with skip_special_tokens). */
export const GLM_SPECIAL_TOKENS = [
  '<|endoftext|>',
  '[MASK]',
  '[gMASK]',
  '[sMASK]',
  '<sop>',
  '<eop>',
  '<|system|>',
  '<|user|>',
  '<|assistant|>',
  '<|observation|>',
] as const;

/** Tokens GLM adds unsplit but not special: the reasoning and tool-call markup the parsers read. */
export const GLM_MARKUP_TOKENS = [
  '<think>',
  '</think>',
  '<tool_call>',
  '</tool_call>',
  '<tool_response>',
  '</tool_response>',
  '<arg_key>',
  '</arg_key>',
  '<arg_value>',
  '</arg_value>',
  '/nothink',
] as const;

// Words that get merges, so common text encodes to fewer tokens than bytes.
const MERGE_WORDS = [
  'The weather in Paris is sunny today. Let me check the tool.',
  '{"city": "Paris", "unit": "celsius", "temperature": 21}',
  'get_weather city Paris Tokyo London hello world Hello answer reasoning think tool call',
];

/**
 * GPT-2's byte → printable character map (`bytes_to_unicode`), which the ByteLevel pre-tokenizer and decoder use:
 * printable Latin-1 bytes stand for themselves, the others are shifted above U+0100 (space becomes `Ġ`).
 */
export function byteLevelAlphabet(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
  const chars: string[] = [];
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) chars.push(String.fromCodePoint(printable(byte) ? byte : 256 + shifted++));
  return chars;
}

/** The pre-tokens ByteLevel (GPT-2 regex, no prefix space) makes of a text, in byte-level characters. */
function byteLevelWords(text: string, alphabet: string[]): string[] {
  const pieces = text.match(/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu) ?? [];
  return pieces.map((piece) => [...Buffer.from(piece, 'utf8')].map((byte) => alphabet[byte]!).join(''));
}

/** The fixture's `tokenizer.json` and the ids of its GLM tokens. */
export interface FixtureTokenizer {
  tokenizerJson: Record<string, unknown>;
  ids: Record<string, number>;
  /** Model vocabulary plus added tokens. */
  vocabSize: number;
}

/** Builds the tokenizer deterministically (same bytes every time, so the fixture's commit stays stable). */
export function buildFixtureTokenizer(): FixtureTokenizer {
  const alphabet = byteLevelAlphabet();
  const vocab = new Map<string, number>();
  for (const char of alphabet) vocab.set(char, vocab.size);
  const merges: string[] = [];
  for (const word of MERGE_WORDS.flatMap((text) => byteLevelWords(text, alphabet))) {
    const chars = [...word];
    let left = chars[0]!;
    for (const right of chars.slice(1)) {
      const merged = left + right;
      if (!vocab.has(merged)) {
        vocab.set(merged, vocab.size);
        merges.push(`${left} ${right}`);
      }
      left = merged;
    }
  }
  const ids: Record<string, number> = {};
  const addedTokens = [...GLM_SPECIAL_TOKENS, ...GLM_MARKUP_TOKENS].map((content) => {
    const id = vocab.size + Object.keys(ids).length;
    ids[content] = id;
    return {
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: (GLM_SPECIAL_TOKENS as readonly string[]).includes(content),
    };
  });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  return { tokenizerJson, ids, vocabSize: vocab.size + addedTokens.length };
}

/**
 * A GLM-style chat template (the format GLM-4.x/5 use): `[gMASK]<sop>`, role tokens, the tools block in the system
 * turn, `<think>…</think>` for reasoning (an empty `</think>` when thinking is off), tool calls as
 * `<tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value></tool_call>`, tool results in `<|observation|>`.
 */
export const GLM_CHAT_TEMPLATE = [
  '[gMASK]<sop>',
  '{%- if tools -%}<|system|>',
  '# Available tools',
  '',
  'Call a function by writing <tool_call>{name}<arg_key>{key}</arg_key><arg_value>{value}</arg_value></tool_call>.',
  'The functions, one JSON schema per line:',
  '{% for tool in tools %}{{ tool | tojson }}',
  '{% endfor %}{%- endif -%}',
  '{%- for m in messages -%}',
  '{%- if m.role == "system" -%}<|system|>{{ m.content }}',
  '{%- elif m.role == "user" -%}<|user|>{{ m.content }}',
  '{%- elif m.role == "assistant" -%}<|assistant|>',
  '{%- if m.reasoning_content -%}<think>{{ m.reasoning_content }}</think>{%- else -%}</think>{%- endif -%}',
  "{{ m.content or '' }}",
  '{%- for tc in (m.tool_calls or []) -%}<tool_call>{{ tc.function.name }}',
  '{%- set args = tc.function.arguments -%}{%- if args is string -%}{%- set args = {} -%}{%- endif -%}',
  '{%- for k, v in args.items() -%}<arg_key>{{ k }}</arg_key><arg_value>{{ v if v is string else v | tojson }}</arg_value>',
  '{%- endfor -%}</tool_call>{%- endfor -%}',
  '{%- elif m.role == "tool" -%}<|observation|><tool_response>{{ m.content }}</tool_response>',
  '{%- endif -%}',
  '{%- endfor -%}',
  '{%- if add_generation_prompt -%}<|assistant|>',
  '{%- if enable_thinking is defined and not enable_thinking -%}</think>{%- endif -%}{%- endif -%}',
].join('\n');
