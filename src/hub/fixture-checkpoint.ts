import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildFixtureTokenizer, GLM_CHAT_TEMPLATE } from './fixture-tokenizer';
import { encodeSafetensorsHeader, tensorSizeBytes, type SafetensorsTensor } from './safetensors-header';

/** GLM-5.1's context length (its config's `max_position_embeddings`). */
export const FIXTURE_CONTEXT_LENGTH = 202752;

/** The hub's listing of a fixture, written next to it so the hub need not re-hash hundreds of MB at start. */
export const HUB_MANIFEST_FILE = '.hub-manifest.json';

/** One file of a fixture as the hub serves it. */
export interface FixtureFile {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** Git blob id, the ETag the Hub sends for non-LFS files. */
  gitBlobId: string;
  /** Stored in LFS on the real Hub (safetensors and large files): listed with `lfs.sha256`. */
  isLfs: boolean;
}

/** What the hub serves for one fixture: the repo, its commit, named revisions and files. */
export interface FixtureManifest {
  repo: string;
  commit: string;
  /** Branch/tag names that resolve to `commit`. */
  revisions: string[];
  files: FixtureFile[];
}

/** Inputs of {@link writeFixtureCheckpoint}. */
export interface FixtureOptions {
  outDir: string;
  /** @default zai-org/GLM-5.1-FP8 */
  repo?: string;
  /** Approximate total size of the shards. @default 300 */
  sizeMB?: number;
  /** Number of safetensors shards. @default max(2, sizeMB / 50) */
  shardCount?: number;
  /** Seed of the deterministic tensor bytes; another seed gives another commit. @default 'glm-ops' */
  seed?: string;
}

/**
 * Writes a real checkpoint: safetensors shards (valid headers, FP8 weights with F32 block scales), the
 * `model.safetensors.index.json` that maps every tensor to its shard, `config.json`, a GLM-style tokenizer that
 * `tokenizers` / transformers load (src/hub/fixture-tokenizer.ts) with its chat template, plus the hub manifest. Bytes are deterministic for a seed, so the commit sha is stable.
 */
export async function writeFixtureCheckpoint(options: FixtureOptions): Promise<FixtureManifest> {
  const repo = options.repo ?? 'zai-org/GLM-5.1-FP8';
  const sizeMB = options.sizeMB ?? 300;
  if (!(sizeMB > 0)) throw new Error(`--size-mb ${sizeMB} must be positive`);
  const shardCount = options.shardCount ?? Math.max(2, Math.round(sizeMB / 50));
  const shardBytes = Math.max(4096, Math.floor((sizeMB * 1024 * 1024) / shardCount));
  await fs.promises.mkdir(options.outDir, { recursive: true });
  const keystream = deterministicBytes(options.seed ?? 'glm-ops');
  const weightMap: Record<string, string> = {};
  let totalTensorBytes = 0;
  for (let shard = 1; shard <= shardCount; shard++) {
    const name = `model-${pad(shard)}-of-${pad(shardCount)}.safetensors`;
    const tensors = shardTensors(shard - 1, shardBytes);
    for (const tensor of tensors) weightMap[tensor.name] = name;
    totalTensorBytes += await writeShard(path.join(options.outDir, name), tensors, keystream);
  }
  const tokenizer = buildFixtureTokenizer();
  // GLM stops on end-of-text and on the start of the next user or observation turn.
  const eosTokenIds = ['<|endoftext|>', '<|user|>', '<|observation|>'].map((token) => tokenizer.ids[token]!);
  const textFiles: Record<string, unknown> = {
    'model.safetensors.index.json': { metadata: { total_size: totalTensorBytes }, weight_map: weightMap },
    'config.json': {
      architectures: ['GlmMoeDsaForCausalLM'],
      model_type: 'glm_moe_dsa',
      torch_dtype: 'bfloat16',
      num_hidden_layers: shardCount,
      max_position_embeddings: FIXTURE_CONTEXT_LENGTH,
      vocab_size: Math.ceil(tokenizer.vocabSize / 64) * 64,
      eos_token_id: eosTokenIds,
      pad_token_id: tokenizer.ids['<|endoftext|>'],
      quantization_config: {
        quant_method: 'fp8',
        fmt: 'e4m3',
        activation_scheme: 'dynamic',
        weight_block_size: [128, 128],
      },
      glm_ops_fixture: true,
    },
    'generation_config.json': { eos_token_id: eosTokenIds, temperature: 1.0, top_p: 0.95 },
    'tokenizer_config.json': {
      tokenizer_class: 'PreTrainedTokenizerFast',
      eos_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      clean_up_tokenization_spaces: false,
      model_max_length: FIXTURE_CONTEXT_LENGTH,
      chat_template: GLM_CHAT_TEMPLATE,
    },
    'special_tokens_map.json': { eos_token: '<|endoftext|>', pad_token: '<|endoftext|>' },
    'tokenizer.json': tokenizer.tokenizerJson,
  };
  for (const [name, content] of Object.entries(textFiles)) {
    await fs.promises.writeFile(path.join(options.outDir, name), `${JSON.stringify(content, null, 2)}\n`);
  }
  return writeHubManifest(options.outDir, repo);
}

/** Lists and hashes a fixture folder and writes its hub manifest (the commit is a hash of the listing). */
export async function writeHubManifest(fixtureDir: string, repo: string): Promise<FixtureManifest> {
  const names = (await fs.promises.readdir(fixtureDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(fixtureDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((name) => !name.startsWith('.'))
    .sort();
  const files: FixtureFile[] = [];
  for (const name of names) {
    const filePath = path.join(fixtureDir, name);
    const sizeBytes = (await fs.promises.stat(filePath)).size;
    const sha256 = createHash('sha256');
    const sha1 = createHash('sha1').update(`blob ${sizeBytes}\0`);
    for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1 << 20 })) {
      sha256.update(chunk as Buffer);
      sha1.update(chunk as Buffer);
    }
    const isLfs = name.endsWith('.safetensors') || sizeBytes > 10 * 1024 * 1024;
    files.push({ path: name, sizeBytes, sha256: sha256.digest('hex'), gitBlobId: sha1.digest('hex'), isLfs });
  }
  const commit = createHash('sha1').update(JSON.stringify({ repo, files })).digest('hex');
  const manifest: FixtureManifest = { repo, commit, revisions: ['main'], files };
  await fs.promises.writeFile(path.join(fixtureDir, HUB_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads a fixture's hub manifest, or builds it when the folder has none. */
export async function loadHubManifest(fixtureDir: string, repo = 'zai-org/GLM-5.1-FP8'): Promise<FixtureManifest> {
  try {
    return JSON.parse(await fs.promises.readFile(path.join(fixtureDir, HUB_MANIFEST_FILE), 'utf8')) as FixtureManifest;
  } catch {
    return writeHubManifest(fixtureDir, repo);
  }
}

/** Tensors of one MoE layer sized to fill about `targetBytes`: FP8 expert weights and their F32 block scales. */
function shardTensors(layer: number, targetBytes: number): SafetensorsTensor[] {
  const hidden = 256;
  const expertBytes = hidden * hidden + (hidden / 128) * (hidden / 128) * 4;
  const experts = Math.max(1, Math.floor(targetBytes / expertBytes));
  const tensors: SafetensorsTensor[] = [];
  for (let expert = 0; expert < experts; expert++) {
    const prefix = `model.layers.${layer}.mlp.experts.${expert}.down_proj`;
    tensors.push({ name: `${prefix}.weight`, dtype: 'F8_E4M3', shape: [hidden, hidden] });
    tensors.push({ name: `${prefix}.weight_scale_inv`, dtype: 'F32', shape: [hidden / 128, hidden / 128] });
  }
  return tensors;
}

async function writeShard(
  filePath: string,
  tensors: SafetensorsTensor[],
  keystream: (size: number) => Buffer,
): Promise<number> {
  const handle = await fs.promises.open(filePath, 'w');
  let dataBytes = 0;
  try {
    await handle.write(encodeSafetensorsHeader(tensors));
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    for (const tensor of tensors) {
      const size = tensorSizeBytes(tensor);
      // Scales must be finite floats; FP8 weights may be any byte pattern.
      const bytes = tensor.dtype === 'F32' ? Buffer.from(new Float32Array(size / 4).fill(1).buffer) : keystream(size);
      pending.push(bytes);
      pendingBytes += size;
      dataBytes += size;
      if (pendingBytes >= 8 << 20) {
        await handle.write(Buffer.concat(pending));
        pending.length = 0;
        pendingBytes = 0;
      }
    }
    if (pending.length > 0) await handle.write(Buffer.concat(pending));
  } finally {
    await handle.close();
  }
  return dataBytes;
}

/** A fast deterministic byte source: AES-128-CTR over zeros, keyed by the seed. */
function deterministicBytes(seed: string): (size: number) => Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (size) => cipher.update(Buffer.alloc(size));
}

function pad(value: number): string {
  return String(value).padStart(5, '0');
}
