import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FixtureManifest } from '../../src/hub/fixture-checkpoint';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import type { HubFaultPlan } from '../../src/hub/hub-faults';
import type { StorageProgress } from '../../src/platforms/platform';
import { evaluateWeightsDir, SENTINEL_FILE } from '../../src/storage/download-sentinel';
import { downloadSnapshot, type SnapshotDownloadOptions } from '../../src/storage/snapshot-download';
import { REPO_ROOT } from '../helpers/repo-files';
import { setMtimeNs, waitForCtimePast } from '../helpers/fs-clock';
import { smallFixture, tempDir } from '../helpers/storage-kit';
import { tsSourceCommand } from '../helpers/ts-source';

const REPO = 'zai-org/GLM-5.1-FP8';
let root: string;
let fixtureDir: string;
let manifest: FixtureManifest;
const hubs: RunningHub[] = [];

beforeAll(async () => {
  root = tempDir('download');
  fixtureDir = path.join(root, 'fixture');
  manifest = await smallFixture(fixtureDir);
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function hubWith(faults: HubFaultPlan = [], token?: string): Promise<RunningHub> {
  const hub = await startHub({ fixtureDir, faults, ...(token ? { token } : {}) });
  hubs.push(hub);
  return hub;
}

function download(hub: RunningHub, outDir: string, extra: Partial<SnapshotDownloadOptions> = {}) {
  return downloadSnapshot({
    connection: { endpoint: hub.url },
    repo: REPO,
    revision: 'main',
    dirFor: (commit) => path.join(outDir, commit),
    retry: { baseBackoffMs: 10, maxBackoffMs: 200 },
    ...extra,
  });
}

const shard = (index: number): string => `model-0000${index}-of-00003.safetensors`;
const fileBytes = (name: string): number => manifest.files.find((file) => file.path === name)!.sizeBytes;
const totalBytes = (): number => manifest.files.reduce((sum, file) => sum + file.sizeBytes, 0);

test('downloads every file, pins the revision to the commit, writes a sentinel that verifies in full', async () => {
  const hub = await hubWith();
  const out = tempDir('fresh');
  const progress: StorageProgress[] = [];
  const result = await download(hub, out, { onProgress: (p) => progress.push(p) });
  expect(result.commit).toBe(manifest.commit);
  expect(result.skipped).toBe(false);
  expect(result.bytesDownloaded).toBe(totalBytes());
  expect(result.sentinel.files.map((file) => file.path).sort()).toEqual(manifest.files.map((file) => file.path).sort());
  for (const file of manifest.files) {
    expect(result.sentinel.files.find((entry) => entry.path === file.path)?.sha256).toBe(file.sha256);
  }
  const verdict = await evaluateWeightsDir(result.dir, {
    expected: { repo: REPO, commit: manifest.commit },
    full: true,
  });
  expect(verdict).toMatchObject({ state: 'valid', problems: [] });
  expect(progress.at(-1)).toMatchObject({
    stage: 'download',
    bytesDone: totalBytes(),
    filesDone: manifest.files.length,
  });
  expect(fs.readdirSync(result.dir).filter((name) => name.endsWith('.incomplete') || name.includes('journal'))).toEqual(
    [],
  );
  fs.rmSync(out, { recursive: true, force: true });
});

test('a re-run with a valid sentinel transfers nothing: no file request, 0 bytes', async () => {
  const hub = await hubWith();
  const out = tempDir('rerun');
  await download(hub, out);
  const fileRequestsBefore = hub.requests.filter((r) => r.file !== 'api').length;
  expect(fileRequestsBefore).toBeGreaterThan(0);
  const again = await download(hub, out);
  expect(again).toMatchObject({ skipped: true, bytesDownloaded: 0 });
  expect(hub.requests.filter((r) => r.file !== 'api')).toHaveLength(fileRequestsBefore);
  fs.rmSync(out, { recursive: true, force: true });
});

test('connection dropped at 50% resumes from the byte offset, not from zero', async () => {
  const target = shard(2);
  const hub = await hubWith([{ kind: 'drop', file: target, atFraction: 0.5, times: 1 }]);
  const out = tempDir('drop');
  const result = await download(hub, out);
  const requests = hub.requests.filter((r) => r.file === target);
  expect(requests).toHaveLength(2);
  expect(requests[0]).toMatchObject({ rangeStart: 0, fault: 'drop' });
  // Bytes still in flight when the socket died are lost, so the resume point is at most the drop point.
  expect(requests[1]!.rangeStart).toBeGreaterThan(fileBytes(target) * 0.3);
  expect(requests[1]!.rangeStart).toBeLessThanOrEqual(Math.floor(fileBytes(target) * 0.5));
  expect(requests[1]!.status).toBe(206);
  // Restarting from zero would move another half of the file; resuming moves only the bytes lost in flight.
  expect(result.bytesDownloaded).toBeLessThan(totalBytes() + fileBytes(target) * 0.2);
  expect(result.filesResumed).toBe(1);
  expect((await evaluateWeightsDir(result.dir, { full: true })).state).toBe('valid');
  fs.rmSync(out, { recursive: true, force: true });
});

test('wrong bytes: only that file is fetched again, the others are kept', async () => {
  const target = shard(1);
  const hub = await hubWith([{ kind: 'wrongBytes', file: target, times: 1 }]);
  const out = tempDir('wrong');
  const result = await download(hub, out);
  expect(hub.requests.filter((r) => r.file === target)).toHaveLength(2);
  for (const other of manifest.files.filter((file) => file.path !== target)) {
    expect(hub.requests.filter((r) => r.file === other.path)).toHaveLength(1);
  }
  expect(result.sentinel.files.find((file) => file.path === target)?.sha256).toBe(
    manifest.files.find((f) => f.path === target)!.sha256,
  );
  fs.rmSync(out, { recursive: true, force: true });
});

test('a file that stays wrong fails as WeightsCorrupt after the retries, with no sentinel', async () => {
  const hub = await hubWith([{ kind: 'wrongBytes', file: shard(3), times: 100 }]);
  const out = tempDir('corrupt');
  await expect(download(hub, out)).rejects.toMatchObject({
    name: 'WeightsCorruptError',
    message: expect.stringContaining(shard(3)),
  });
  expect(fs.existsSync(path.join(out, manifest.commit, SENTINEL_FILE))).toBe(false);
  fs.rmSync(out, { recursive: true, force: true });
});

test('404 for the revision is a WeightsNotFound error naming repo and revision, before anything is written', async () => {
  const hub = await hubWith();
  const out = tempDir('404');
  await expect(download(hub, out, { revision: 'does-not-exist' })).rejects.toMatchObject({
    name: 'WeightsNotFoundError',
    status: 404,
    message: expect.stringMatching(/zai-org\/GLM-5\.1-FP8.*does-not-exist/),
  });
  await expect(download(hub, out, { repo: 'zai-org/nope' })).rejects.toMatchObject({ name: 'WeightsNotFoundError' });
  expect(fs.readdirSync(out)).toEqual([]);
  fs.rmSync(out, { recursive: true, force: true });
});

test('429 and 503 with Retry-After are waited out, on the API and on files', async () => {
  const hub = await hubWith([
    { kind: 'status', status: 429, api: true, file: '*', times: 2, retryAfterSeconds: 0.05 },
    { kind: 'status', status: 503, api: false, file: shard(1), times: 2, retryAfterSeconds: 0.05 },
  ]);
  const out = tempDir('throttle');
  const result = await download(hub, out);
  expect(hub.requests.filter((r) => r.status === 429)).toHaveLength(2);
  expect(hub.requests.filter((r) => r.status === 503)).toHaveLength(2);
  expect(result.sentinel.files).toHaveLength(manifest.files.length);
  fs.rmSync(out, { recursive: true, force: true });
});

test('a slow link still completes and progress reports a rate', async () => {
  const hub = await hubWith([{ kind: 'slow', file: 'config.json', bytesPerSec: 2000 }]);
  const out = tempDir('slow');
  const rates: number[] = [];
  await download(hub, out, { onProgress: (p) => rates.push(p.rateBytesPerSec) });
  expect(Math.max(...rates)).toBeGreaterThan(0);
  fs.rmSync(out, { recursive: true, force: true });
});

test('HF_TOKEN is sent as a Bearer token and never appears in errors', async () => {
  const secret = 'hf_secret_value_123';
  const hub = await hubWith([], secret);
  const out = tempDir('token');
  const failure = await download(hub, out).catch((err: Error) => err);
  expect(failure).toMatchObject({ name: 'WeightsNotFoundError', status: 401 });
  const ok = await download(hub, out, { connection: { endpoint: hub.url, token: secret } });
  expect(ok.sentinel.files).toHaveLength(manifest.files.length);
  const wrong = await download(hub, tempDir('token2'), {
    connection: { endpoint: hub.url, token: 'hf_wrong_token' },
  }).catch((err: Error) => err);
  expect(`${(wrong as Error).message} ${(wrong as Error).stack}`).not.toContain('hf_wrong_token');
  fs.rmSync(out, { recursive: true, force: true });
});

test('a sentinel whose files were deleted or truncated is detected and repaired, keeping the good files', async () => {
  const hub = await hubWith();
  const out = tempDir('repair');
  const first = await download(hub, out);
  fs.rmSync(path.join(first.dir, shard(1)));
  fs.truncateSync(path.join(first.dir, shard(2)), 1000);
  const verdict = await evaluateWeightsDir(first.dir, { expected: { repo: REPO, commit: manifest.commit } });
  expect(verdict.state).toBe('corrupt');
  expect(verdict.problems.join('\n')).toMatch(new RegExp(`${shard(1)}: missing[\\s\\S]*${shard(2)}: size 1000`));
  const requestsBefore = hub.requests.length;
  const repaired = await download(hub, out);
  expect(repaired.skipped).toBe(false);
  const fetched = hub.requests
    .slice(requestsBefore)
    .filter((r) => r.file.endsWith('.safetensors'))
    .map((r) => r.file);
  expect(fetched.sort()).toEqual([shard(1), shard(2)]);
  expect((await evaluateWeightsDir(first.dir, { full: true })).state).toBe('valid');
  fs.rmSync(out, { recursive: true, force: true });
});

/** Overwrites `bytes` at `offset` of a file in place: same inode, same size, new mtime and ctime. */
function corruptInPlace(filePath: string, offset = 5000): void {
  const handle = fs.openSync(filePath, 'r+');
  fs.writeSync(handle, Buffer.from([1, 2, 3, 4]), 0, 4, offset);
  fs.closeSync(handle);
}

/** Waits until a change to `filePath` is sure to move its ctime (coarse kernel clocks tick in milliseconds). */
async function clockPast(filePath: string): Promise<void> {
  await waitForCtimePast(path.dirname(filePath), fs.statSync(filePath, { bigint: true }).ctimeNs);
}

function fetchedShards(hub: RunningHub, since: number): string[] {
  return hub.requests
    .slice(since)
    .filter((r) => r.file.endsWith('.safetensors'))
    .map((r) => r.file)
    .sort();
}

test('a shard corrupted in place (same size) after a download is re-hashed and re-downloaded by the next run, nothing else', async () => {
  const hub = await hubWith();
  const out = tempDir('inplace');
  const first = await download(hub, out);
  await clockPast(path.join(first.dir, shard(3)));
  corruptInPlace(path.join(first.dir, shard(3)));
  const quick = await evaluateWeightsDir(first.dir, { expected: { repo: REPO, commit: manifest.commit } });
  expect(quick.state).toBe('corrupt');
  expect(quick.rehashed).toEqual([{ path: shard(3), reasons: ['mtime', 'ctime'], isMatch: false }]);
  expect(quick.problems).toEqual([
    `${shard(3)}: sha256 differs from the sentinel (mtime, ctime changed since the sentinel)`,
  ]);
  const requestsBefore = hub.requests.length;
  const second = await download(hub, out);
  expect(second.skipped).toBe(false);
  expect(second.rehashed.map((file) => file.path)).toEqual([shard(3)]);
  expect(second.filesRepaired).toEqual([shard(3)]);
  expect(second.filesDownloaded).toBe(1);
  expect(second.bytesDownloaded).toBe(fileBytes(shard(3)));
  expect(fetchedShards(hub, requestsBefore)).toEqual([shard(3)]);
  const full = await evaluateWeightsDir(first.dir, { full: true });
  expect(full.state).toBe('valid');
  expect(full.rehashed).toHaveLength(manifest.files.length);
  fs.rmSync(out, { recursive: true, force: true });
});

test('an in-place rewrite that restores the mtime is still caught by the ctime, and re-downloaded', async () => {
  const hub = await hubWith();
  const out = tempDir('mtime-restored');
  const first = await download(hub, out);
  const target = path.join(first.dir, shard(2));
  const recorded = first.sentinel.files.find((file) => file.path === shard(2))!.stamp;
  await clockPast(target);
  corruptInPlace(target, 100);
  setMtimeNs(target, BigInt(recorded.mtimeNs));
  const stats = fs.statSync(target, { bigint: true });
  expect([stats.mtimeNs.toString(), stats.ino.toString(), Number(stats.size)]).toEqual([
    recorded.mtimeNs,
    recorded.ino,
    fileBytes(shard(2)),
  ]);
  const requestsBefore = hub.requests.length;
  const second = await download(hub, out);
  expect(second.rehashed).toEqual([{ path: shard(2), reasons: ['ctime'], isMatch: false }]);
  expect(fetchedShards(hub, requestsBefore)).toEqual([shard(2)]);
  expect((await evaluateWeightsDir(first.dir, { full: true })).state).toBe('valid');
  fs.rmSync(out, { recursive: true, force: true });
});

test('a shard replaced by another file (new inode, mtime restored) is caught by the inode', async () => {
  const hub = await hubWith();
  const out = tempDir('replaced');
  const first = await download(hub, out);
  const target = path.join(first.dir, shard(1));
  const recorded = first.sentinel.files.find((file) => file.path === shard(1))!.stamp;
  const bytes = fs.readFileSync(target);
  bytes[7] = bytes[7]! ^ 0xff;
  fs.writeFileSync(`${target}.new`, bytes);
  await clockPast(target);
  fs.renameSync(`${target}.new`, target);
  setMtimeNs(target, BigInt(recorded.mtimeNs));
  const second = await download(hub, out);
  expect(second.rehashed).toEqual([{ path: shard(1), reasons: ['ctime', 'inode'], isMatch: false }]);
  expect(second.filesRepaired).toEqual([shard(1)]);
  fs.rmSync(out, { recursive: true, force: true });
});

test('untouched files are never re-hashed; a touch that kept the bytes costs one re-hash, then none', async () => {
  const hub = await hubWith();
  const out = tempDir('untouched');
  const first = await download(hub, out);
  const again = await download(hub, out);
  expect(again).toMatchObject({ skipped: true, rehashed: [], filesRepaired: [] });
  await clockPast(path.join(first.dir, shard(1)));
  fs.chmodSync(path.join(first.dir, shard(1)), 0o600);
  const touched = await download(hub, out);
  expect(touched).toMatchObject({ skipped: true, bytesDownloaded: 0 });
  expect(touched.rehashed).toEqual([{ path: shard(1), reasons: ['ctime'], isMatch: true }]);
  const afterRefresh = await download(hub, out);
  expect(afterRefresh).toMatchObject({ skipped: true, rehashed: [] });
  fs.rmSync(out, { recursive: true, force: true });
});

test('a schema-1 sentinel (no stamps) is read: every file is re-hashed once, then the sentinel carries stamps', async () => {
  const hub = await hubWith();
  const out = tempDir('legacy');
  const first = await download(hub, out);
  const legacy = {
    ...first.sentinel,
    schemaVersion: 1,
    files: first.sentinel.files.map(({ stamp: _stamp, ...file }) => file),
  };
  fs.writeFileSync(path.join(first.dir, SENTINEL_FILE), JSON.stringify(legacy));
  const requestsBefore = hub.requests.length;
  const upgraded = await download(hub, out);
  expect(upgraded.skipped).toBe(true);
  expect(upgraded.rehashed.map((file) => [file.path, file.reasons, file.isMatch])).toEqual(
    legacy.files.map((file) => [file.path, ['legacy-sentinel'], true]),
  );
  expect(fetchedShards(hub, requestsBefore)).toEqual([]);
  const written = JSON.parse(fs.readFileSync(path.join(first.dir, SENTINEL_FILE), 'utf8')) as { schemaVersion: number };
  expect(written.schemaVersion).toBe(2);
  expect((await download(hub, out)).rehashed).toEqual([]);
  fs.rmSync(out, { recursive: true, force: true });
});

test('disk full: a size-capped filesystem gives a clear DiskFull error and no sentinel (preflight and mid-write)', async () => {
  const mountDir = tempDir('tmpfs');
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountDir]);
  if (mounted !== 0) {
    fs.rmSync(mountDir, { recursive: true, force: true });
    throw new Error('this test needs `mount -t tmpfs` (root); it could not mount');
  }
  try {
    const hub = await hubWith();
    await expect(download(hub, mountDir)).rejects.toMatchObject({
      name: 'DiskFullError',
      message: expect.stringMatching(/bytes free but the download still needs/),
    });
    expect(hub.requests.filter((r) => r.file !== 'api')).toHaveLength(0);
    await expect(download(hub, mountDir, { shouldPreflightSpace: false, concurrency: 1 })).rejects.toMatchObject({
      name: 'DiskFullError',
      message: expect.stringContaining('no space left'),
    });
    expect(fs.existsSync(path.join(mountDir, manifest.commit, SENTINEL_FILE))).toBe(false);
  } finally {
    await run('umount', [mountDir]);
    fs.rmSync(mountDir, { recursive: true, force: true });
  }
});

test('a downloader process killed mid-download: the next run resumes and finishes', async () => {
  const hub = await hubWith([{ kind: 'slow', file: '*', bytesPerSec: 4_000_000 }]);
  const out = tempDir('kill');
  const [node, ...args] = tsSourceCommand(path.join(REPO_ROOT, 'test', 'helpers', 'download-child.ts'));
  const child = spawn(node!, [...args, hub.url, REPO, 'main', out], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let progressed = 0;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const last = /progress (\d+)\s*$/.exec(chunk.toString());
      if (last) progressed = Number(last[1]);
      if (progressed > totalBytes() / 3) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(fs.existsSync(path.join(out, manifest.commit, SENTINEL_FILE))).toBe(false);
  hub.setFaults([]);
  const resumed = await download(hub, out);
  expect(resumed.bytesDownloaded).toBeGreaterThan(0);
  expect(resumed.bytesDownloaded).toBeLessThan(totalBytes());
  expect(resumed.filesResumed + resumed.filesKept).toBeGreaterThan(0);
  expect((await evaluateWeightsDir(resumed.dir, { full: true })).state).toBe('valid');
  fs.rmSync(out, { recursive: true, force: true });
});

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', () => resolve(-1));
    child.once('exit', (code) => resolve(code ?? -1));
  });
}
