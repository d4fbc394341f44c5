import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const DIR = path.resolve(__dirname, '..', 'fixtures', 'sglang-real', 'http');

/** One recorded exchange with the real SGLang 0.5.17 server (test/fixtures/sglang-real/http/*.json). */
export interface RecordedExchange {
  exchange: string;
  what: string;
  request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    json?: unknown;
    raw?: string;
  };
  response: {
    status: number;
    headers: Record<string, string>;
    json?: unknown;
    events?: unknown[];
    text?: string;
  };
}

/** Loads a recorded exchange by name. */
export function recorded(name: string): RecordedExchange {
  return JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as RecordedExchange;
}

/** What the emulator answered to a replayed request, in the same form as a recording's response. */
export interface Answer {
  status: number;
  headers: Headers;
  json?: unknown;
  events?: unknown[];
  text: string;
}

/** Sends a request (the recorded one, or a variant of it) and reads the answer as the recordings store it. */
export async function send(
  baseUrl: string,
  request: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  const text = await response.text();
  const answer: Answer = { status: response.status, headers: response.headers, text };
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    answer.events = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice(6))
      .map((data) => (data === '[DONE]' ? data : (JSON.parse(data) as unknown)));
  } else if (text !== '') {
    try {
      answer.json = JSON.parse(text) as unknown;
    } catch {
      // A text body (e.g. /flush_cache) stays in `text`.
    }
  }
  return answer;
}

/**
 * The shape of a JSON value: object keys in order with their value shapes, the JSON type of leaves, and for
 * arrays the distinct shapes of their elements (how many tokens a text split into is not a shape).
 */
export type Shape = string | Array<[string, Shape]> | { array: Shape[] };

/** Computes a value's shape. */
export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const seen = new Map<string, Shape>();
    for (const item of value) {
      const shape = shapeOf(item);
      seen.set(JSON.stringify(shape), shape);
    }
    return { array: [...seen.values()] };
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(
      ([key, item]) => [key, shapeOf(item)] as [string, Shape],
    );
  }
  return typeof value;
}

/** The shapes of a stream's events with consecutive repeats collapsed: the chunk order, text length aside. */
export function streamShape(events: unknown[]): Shape[] {
  const shapes: Shape[] = [];
  let last = '';
  for (const event of events) {
    const shape = shapeOf(event);
    const key = JSON.stringify(shape);
    if (key !== last) shapes.push(shape);
    last = key;
  }
  return shapes;
}

/** A stream's events split by choice index (n > 1 interleaves by timing); choice-less events go under -1. */
export function eventsByChoice(events: unknown[]): Map<number, unknown[]> {
  const groups = new Map<number, unknown[]>();
  for (const event of events) {
    const choices = (event as { choices?: Array<{ index: number }> }).choices;
    const index = typeof event === 'object' && choices && choices.length > 0 ? (choices[0]?.index ?? -1) : -1;
    groups.set(index, [...(groups.get(index) ?? []), event]);
  }
  return groups;
}

/**
 * A model folder like the recordings' (a Llama config with a 4096-token context), so context-length errors and
 * `/model_info` have the recorded values.
 */
export function recordingLikeModelDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-emu-recorded-model-'));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      max_position_embeddings: 4096,
      eos_token_id: [350],
      vocab_size: 384,
    }),
  );
  return dir;
}

/**
 * A one-GPU launch as the recordings' server had it (test/fixtures/sglang-real: served as glm-4.7, the recorded
 * parsers, metrics on) on a free port, with `extra` flags after it.
 */
export function recordedLaunchArgv(modelDir: string, extra: string[] = []): string[] {
  return [
    '--model-path',
    modelDir,
    '--served-model-name',
    'glm-4.7',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--tool-call-parser',
    'glm47',
    '--reasoning-parser',
    'glm45',
    '--enable-metrics',
    ...extra,
  ];
}

/** The argv the recorded exchanges' server ran with (`--disable-cuda-graph` and the CPU flags aside). */
export function recordingArgv(modelDir: string): string[] {
  return recordedLaunchArgv(modelDir, ['--max-total-tokens', '8192', '--api-key', 'testkey']);
}
