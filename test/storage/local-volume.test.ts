import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalVolume } from '../../src/storage/local-volume';
import { tempDir } from '../helpers/storage-kit';

let root: string;
beforeEach(() => {
  root = tempDir('volume');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('guide §18: a server that started before the commit, or never reloaded, gets FileNotFoundError; commit + reload fixes it', async () => {
  const volume = new LocalVolume(root, 'glm51-model-weights');
  const server = await volume.openReader();
  const staging = await volume.stagingDir();
  fs.mkdirSync(path.join(staging, 'GLM-5.1-FP8'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'GLM-5.1-FP8', 'config.json'), '{}');

  const read = (reader: { path(...p: string[]): string }) =>
    fs.readFileSync(reader.path('GLM-5.1-FP8', 'config.json'), 'utf8');
  expect(() => read(server)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  await server.reload();
  expect(() => read(server)).toThrow(expect.objectContaining({ code: 'ENOENT' }));

  await volume.commit();
  expect(() => read(server)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  await server.reload();
  expect(read(server)).toBe('{}');
});

test('a reader keeps its generation until it reloads, even when files are deleted and re-committed', async () => {
  const volume = new LocalVolume(root, 'v');
  const staging = await volume.stagingDir();
  fs.writeFileSync(path.join(staging, 'a.txt'), 'one');
  await volume.commit();
  const reader = await volume.openReader();
  fs.rmSync(path.join(staging, 'a.txt'));
  fs.writeFileSync(path.join(staging, 'b.txt'), 'two');
  const { generation } = await volume.commit();
  expect(fs.readFileSync(reader.path('a.txt'), 'utf8')).toBe('one');
  expect(fs.existsSync(reader.path('b.txt'))).toBe(false);
  expect(await reader.reload()).toBe(generation);
  expect(fs.existsSync(reader.path('a.txt'))).toBe(false);
  expect(fs.readFileSync(reader.path('b.txt'), 'utf8')).toBe('two');
});

test('writer-private files (download parts, temp files) never reach readers', async () => {
  const volume = new LocalVolume(root, 'v');
  const staging = await volume.stagingDir();
  fs.writeFileSync(path.join(staging, 'shard.safetensors.incomplete'), 'half');
  fs.writeFileSync(path.join(staging, '.glm-ops-download-journal.jsonl'), '{}\n');
  fs.writeFileSync(path.join(staging, 'done.bin'), 'x');
  await volume.commit();
  const reader = await volume.openReader();
  expect(fs.readdirSync(reader.root).sort()).toEqual(['done.bin']);
});

test('concurrent commits from two handles produce distinct generations and a consistent current link', async () => {
  const first = new LocalVolume(root, 'v');
  const second = new LocalVolume(root, 'v');
  fs.writeFileSync(path.join(await first.stagingDir(), 'f'), 'x');
  const results = await Promise.all([first.commit(), second.commit(), first.commit()]);
  expect(new Set(results.map((r) => r.generation)).size).toBe(3);
  expect(await first.currentGeneration()).toBe(Math.max(...results.map((r) => r.generation)));
});

test('bad volume names are refused before touching disk', () => {
  expect(() => new LocalVolume(root, '../escape')).toThrow(/volume name "..\/escape"/);
  expect(fs.readdirSync(root)).toEqual([]);
});
