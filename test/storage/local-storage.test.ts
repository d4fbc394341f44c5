import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FixtureManifest } from '../../src/hub/fixture-checkpoint';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import { LocalStorage } from '../../src/platforms/local/local-storage';
import { kernelMarkerName, kernelRelativeDir } from '../../src/storage/storage-layout';
import { setMtimeNs, waitForCtimePast } from '../helpers/fs-clock';
import { cliCommand, smallFixture, tempDir, storageSpec } from '../helpers/storage-kit';

let root: string;
let hub: RunningHub;
let manifest: FixtureManifest;

beforeAll(async () => {
  root = tempDir('local-storage');
  manifest = await smallFixture(path.join(root, 'fixture'), 3, 2);
  hub = await startHub({ fixtureDir: path.join(root, 'fixture') });
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function storageIn(name: string, env: NodeJS.ProcessEnv = {}): LocalStorage {
  return new LocalStorage({
    volumesRoot: path.join(root, name, 'volumes'),
    hubUrl: hub.url,
    compileCommand: [...cliCommand(), 'emulator-compile'],
    env,
  });
}

test('weights: missing → ensureWeights (staged) → still missing for readers until commitVolume → valid', async () => {
  const storage = storageIn('weights');
  const spec = storageSpec();
  expect((await storage.weightsStatus(spec)).state).toBe('missing');
  const result = await storage.ensureWeights(spec);
  expect(result).toMatchObject({ skipped: false, status: { state: 'valid', commit: manifest.commit } });
  const beforeCommit = await storage.weightsStatus(spec);
  expect(beforeCommit.state).toBe('missing');
  expect(beforeCommit.problems.join(' ')).toMatch(/never committed.*§18/);
  await storage.commitVolume(spec, 'weights');
  const after = await storage.weightsStatus(spec);
  expect(after).toMatchObject({ state: 'valid', commit: manifest.commit, fileCount: manifest.files.length });
  expect(after.path).toContain(path.join('models', 'zai-org--GLM-5.1-FP8', manifest.commit));
  expect((await storage.ensureWeights(spec)).skipped).toBe(true);
  const paths = await storage.enginePaths(spec);
  expect(fs.existsSync(path.join(paths.modelPath, 'config.json'))).toBe(true);
});

test('a volume commit hard-links every file (new ctime): its own link ledger vouches for it, so nothing is re-hashed', async () => {
  const storage = storageIn('ledger');
  const spec = storageSpec();
  await storage.ensureWeights(spec);
  await storage.commitVolume(spec, 'weights');
  await storage.commitVolume(spec, 'weights');
  const status = await storage.weightsStatus(spec);
  const shard = manifest.files.find((file) => file.path.endsWith('.safetensors'))!.path;
  const sentinel = JSON.parse(fs.readFileSync(status.sentinelPath, 'utf8')) as {
    files: Array<{ path: string; stamp: { ctimeNs: string } }>;
  };
  // The commits did change the ctime the sentinel recorded: only the ledger keeps this from a re-hash.
  expect(fs.statSync(path.join(status.path, shard), { bigint: true }).ctimeNs.toString()).not.toBe(
    sentinel.files.find((file) => file.path === shard)!.stamp.ctimeNs,
  );
  expect(status).toMatchObject({ state: 'valid', rehashed: [] });
  const again = await storage.ensureWeights(spec);
  expect(again).toMatchObject({ skipped: true, status: { rehashed: [] } });
});

test('after a commit, a shard rewritten in place with its mtime restored is caught in the committed view and repaired', async () => {
  const storage = storageIn('ledger-broken');
  const spec = storageSpec();
  await storage.ensureWeights(spec);
  await storage.commitVolume(spec, 'weights');
  const committed = await storage.weightsStatus(spec);
  const shard = manifest.files.find((file) => file.path.endsWith('.safetensors'))!.path;
  const target = path.join(committed.path, shard);
  const before = fs.statSync(target, { bigint: true });
  await waitForCtimePast(path.dirname(target), before.ctimeNs);
  const handle = fs.openSync(target, 'r+');
  fs.writeSync(handle, Buffer.from('XXXX'), 0, 4, 64);
  fs.closeSync(handle);
  setMtimeNs(target, before.mtimeNs);
  expect(fs.statSync(target, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
  const status = await storage.weightsStatus(spec);
  expect(status.state).toBe('corrupt');
  expect(status.rehashed).toEqual([{ path: shard, reasons: ['ctime'], isMatch: false }]);
  const repaired = await storage.ensureWeights(spec);
  expect(repaired).toMatchObject({ skipped: false, filesDownloaded: 1, filesRepaired: [shard] });
  await storage.commitVolume(spec, 'weights');
  expect(await storage.weightsStatus(spec, { full: true })).toMatchObject({ state: 'valid' });
});

test('kernels: compile writes the marker last and commits; B200 and H200 caches live side by side; rollback needs no recompile', async () => {
  const storage = storageIn('kernels');
  const b200 = storageSpec();
  const h200 = storageSpec((s) => (s.gpu = { type: 'H200', count: 8 }));
  expect((await storage.kernelCacheStatus(b200)).state).toBe('missing');
  await expect(storage.compileKernels(b200, { rolloutId: 'r1' })).rejects.toMatchObject({
    name: 'CompileFailedError',
    message: expect.stringMatching(/commit the weights volume first/),
  });
  await storage.ensureWeights(b200);
  await storage.commitVolume(b200, 'weights');

  const progress: number[] = [];
  const compiled = await storage.compileKernels(b200, {
    rolloutId: 'r1',
    onProgress: (p) => progress.push(p.bytesDone),
  });
  expect(compiled.skipped).toBe(false);
  expect(compiled.status).toMatchObject({
    state: 'valid',
    marker: { gpuType: 'B200', smArch: 'sm100', rolloutId: 'r1', modelRevision: manifest.commit },
  });
  expect(path.basename(compiled.status.markerPath)).toBe('.compiled-GLM-5.1-FP8');
  expect(progress.length).toBeGreaterThan(0);
  expect((await storage.compileKernels(b200, { rolloutId: 'r2' })).skipped).toBe(true);

  const stale = await storage.kernelCacheStatus(h200);
  expect(stale.state).toBe('stale');
  expect(stale.reasons.join(' ')).toMatch(/B200.*other GPU: compiled for B200 \(sm100\), spec needs H200 \(sm90\)/);
  const h200Compiled = await storage.compileKernels(h200, { rolloutId: 'r3' });
  expect(h200Compiled.status).toMatchObject({ state: 'valid', marker: { gpuType: 'H200', smArch: 'sm90' } });
  expect((await storage.kernelCacheStatus(b200)).state).toBe('valid');
  const paths = await storage.enginePaths(h200);
  expect(JSON.parse(fs.readFileSync(path.join(paths.kernelCacheDir, 'manifest.json'), 'utf8'))).toMatchObject({
    smArch: 'sm90',
  });
});

test("a marker saying B200 in the H200 folder (or the guide's single root marker) is stale and gets recompiled", async () => {
  const storage = storageIn('stale-marker');
  const h200 = storageSpec((s) => (s.gpu = { type: 'H200', count: 8 }));
  await storage.ensureWeights(h200);
  await storage.commitVolume(h200, 'weights');
  const kernels = storage.volume(h200, 'kernels');
  const staging = await kernels.stagingDir();
  const marker = {
    model: 'zai-org/GLM-5.1-FP8',
    gpuType: 'B200',
    smArch: 'sm100',
    sglangImage: h200.sglang.image,
    modelRevision: manifest.commit,
    compiledAt: 'x',
  };
  fs.writeFileSync(path.join(staging, kernelMarkerName(h200.model.repo)), JSON.stringify(marker));
  await kernels.commit();
  expect((await storage.kernelCacheStatus(h200)).reasons.join(' ')).toMatch(/volume root \(guide layout\).*B200/);
  const dir = path.join(staging, kernelRelativeDir('H200', h200.sglang.image));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, kernelMarkerName(h200.model.repo)), JSON.stringify(marker));
  await kernels.commit();
  const status = await storage.kernelCacheStatus(h200);
  expect(status).toMatchObject({ state: 'stale', marker: { gpuType: 'B200' } });
  expect(status.reasons[0]).toMatch(/other GPU/);
  const recompiled = await storage.compileKernels(h200, { rolloutId: 'fix' });
  expect(recompiled).toMatchObject({ skipped: false, status: { state: 'valid', marker: { gpuType: 'H200' } } });
});

test('a failed or killed compile leaves no marker, and the next run compiles again', async () => {
  const failing = storageIn('compile-fail', { GLM_OPS_EMULATOR_COMPILE_FAIL: '1' });
  const spec = storageSpec();
  await failing.ensureWeights(spec);
  await failing.commitVolume(spec, 'weights');
  const err = await failing.compileKernels(spec, { rolloutId: 'r1' }).catch((e: unknown) => e);
  expect(err).toMatchObject({ name: 'CompileFailedError', exitCode: 1 });
  const markerInStaging = path.join(
    await failing.volume(spec, 'kernels').stagingDir(),
    kernelRelativeDir('B200', spec.sglang.image),
    '.compiled-GLM-5.1-FP8',
  );
  expect(fs.existsSync(markerInStaging)).toBe(false);

  const killer = new AbortController();
  const slow = storageSpec((s) => {
    s.local.timeScale = 1;
    s.local.compile.seconds = 30;
  });
  const working = storageIn('compile-fail');
  const killed = working.compileKernels(slow, { rolloutId: 'r2', signal: killer.signal });
  setTimeout(() => killer.abort(), 1500);
  await expect(killed).rejects.toMatchObject({ name: 'StorageAbortedError' });
  expect(fs.existsSync(markerInStaging)).toBe(false);
  expect((await working.kernelCacheStatus(spec)).state).toBe('missing');
  expect((await working.compileKernels(spec, { rolloutId: 'r3' })).status.state).toBe('valid');
});

test('invalidateKernels removes the marker first, then the cache, and honours onlyIfRolloutId', async () => {
  const storage = storageIn('invalidate');
  const spec = storageSpec();
  await storage.ensureWeights(spec);
  await storage.commitVolume(spec, 'weights');
  await storage.compileKernels(spec, { rolloutId: 'mine' });
  expect(await storage.invalidateKernels(spec, { onlyIfRolloutId: 'someone-else' })).toEqual({ removed: false });
  expect((await storage.kernelCacheStatus(spec)).state).toBe('valid');
  expect(await storage.invalidateKernels(spec, { onlyIfRolloutId: 'mine' })).toEqual({ removed: true });
  const status = await storage.kernelCacheStatus(spec);
  expect(status.state).toBe('missing');
  expect(fs.existsSync(status.path)).toBe(false);
});
