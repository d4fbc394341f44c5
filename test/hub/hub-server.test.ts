import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { decodeSafetensorsHeader } from '../../src/hub/safetensors-header';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import { parseFaultPlan } from '../../src/hub/hub-faults';
import type { FixtureManifest } from '../../src/hub/fixture-checkpoint';
import { REPO_ROOT } from '../helpers/repo-files';
import { cliCommand, smallFixture, tempDir } from '../helpers/storage-kit';

let root: string;
let fixtureDir: string;
let manifest: FixtureManifest;
let hub: RunningHub;

beforeAll(async () => {
  root = tempDir('hub');
  fixtureDir = path.join(root, 'fixture');
  manifest = await smallFixture(fixtureDir, 2, 2);
  hub = await startHub({ fixtureDir });
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('the fixture is a real checkpoint: safetensors headers, an index naming every tensor, config and tokenizer', async () => {
  const index = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'model.safetensors.index.json'), 'utf8')) as {
    metadata: { total_size: number };
    weight_map: Record<string, string>;
  };
  const shards = [...new Set(Object.values(index.weight_map))].sort();
  expect(shards).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  let dataBytes = 0;
  for (const shard of shards) {
    const bytes = fs.readFileSync(path.join(fixtureDir, shard));
    const { headerBytes, header } = decodeSafetensorsHeader(bytes);
    const tensors = Object.entries(header).filter(([name]) => name !== '__metadata__') as Array<
      [string, { dtype: string; data_offsets: [number, number] }]
    >;
    const end = Math.max(...tensors.map(([, t]) => t.data_offsets[1]));
    expect(bytes.length).toBe(headerBytes + end);
    expect(tensors.every(([name]) => index.weight_map[name] === shard)).toBe(true);
    expect(new Set(tensors.map(([, t]) => t.dtype))).toEqual(new Set(['F8_E4M3', 'F32']));
    dataBytes += end;
  }
  expect(index.metadata.total_size).toBe(dataBytes);
  for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    expect(fs.existsSync(path.join(fixtureDir, name))).toBe(true);
});

test('model info lists siblings with size and lfs sha256, pinned to a commit; unknown revision and repo are 404 JSON', async () => {
  const info = (await (await fetch(`${hub.url}/api/models/zai-org/GLM-5.1-FP8/revision/main`)).json()) as {
    sha: string;
    siblings: Array<{ rfilename: string; size: number; lfs?: { sha256: string } }>;
  };
  expect(info.sha).toBe(manifest.commit);
  const shard = info.siblings.find((s) => s.rfilename.endsWith('.safetensors'))!;
  expect(shard.lfs?.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(info.siblings.find((s) => s.rfilename === 'config.json')!.lfs).toBeUndefined();
  const missing = await fetch(`${hub.url}/api/models/zai-org/GLM-5.1-FP8/revision/nope`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ error: expect.stringContaining('nope') });
  expect((await fetch(`${hub.url}/api/models/other/repo/revision/main`)).status).toBe(404);
});

test('resolve serves Range requests with 206, Content-Range, X-Repo-Commit and ETag', async () => {
  const file = manifest.files.find((f) => f.path.endsWith('.safetensors'))!;
  const response = await fetch(`${hub.url}/zai-org/GLM-5.1-FP8/resolve/main/${file.path}`, {
    headers: { range: 'bytes=100-199' },
  });
  expect(response.status).toBe(206);
  expect(response.headers.get('content-range')).toBe(`bytes 100-199/${file.sizeBytes}`);
  expect(response.headers.get('x-repo-commit')).toBe(manifest.commit);
  expect(response.headers.get('etag')).toBe(`"${file.sha256}"`);
  const body = Buffer.from(await response.arrayBuffer());
  expect(body.equals(fs.readFileSync(path.join(fixtureDir, file.path)).subarray(100, 200))).toBe(true);
  const head = await fetch(`${hub.url}/zai-org/GLM-5.1-FP8/resolve/${manifest.commit}/${file.path}`, {
    method: 'HEAD',
  });
  expect(head.headers.get('content-length')).toBe(String(file.sizeBytes));
  expect(
    (
      await fetch(`${hub.url}/zai-org/GLM-5.1-FP8/resolve/main/${file.path}`, {
        headers: { range: `bytes=${file.sizeBytes}-` },
      })
    ).status,
  ).toBe(416);
});

test('fault plans are validated with the field named', () => {
  expect(parseFaultPlan('[{"kind":"drop","atFraction":0.5}]')).toEqual([
    { kind: 'drop', file: '*', atFraction: 0.5, times: 1 },
  ]);
  expect(() => parseFaultPlan('[{"kind":"drop","atFraction":2}]')).toThrow(/atFraction/);
  expect(() => parseFaultPlan('not json')).toThrow(/--faults is not valid JSON/);
});

test('`hub serve` prints its URL and serves; `hub fixture` rejects a bad size with one line', async () => {
  const [node, ...args] = cliCommand();
  const child = spawn(node!, [...args, 'hub', 'serve', '--fixture', fixtureDir, '--port', '0'], { cwd: REPO_ROOT });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^hub listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`hub serve exited ${code}`)));
    });
    expect((await fetch(`${url}/api/models/zai-org/GLM-5.1-FP8/revision/main`)).status).toBe(200);
  } finally {
    child.kill('SIGTERM');
  }
  const bad = spawn(node!, [...args, 'hub', 'fixture', '--out', path.join(root, 'bad'), '--size-mb', '-3'], {
    cwd: REPO_ROOT,
  });
  let stderr = '';
  bad.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
  expect(code).not.toBe(0);
  expect(stderr).toMatch(/--size-mb must be a positive number/);
  expect(stderr).not.toMatch(/\n\s+at /);
});
