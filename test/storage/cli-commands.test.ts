import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHub, type RunningHub } from '../../src/hub/hub-server';
import { LocalStorage } from '../../src/platforms/local/local-storage';
import { COMPILE_SUCCESS_LINE } from '../../src/emulator/compile-deep-gemm';
import { stringify } from 'yaml';
import { waitForCtimePast } from '../helpers/fs-clock';
import { cliCommand, smallFixture, tempDir, storageSpec } from '../helpers/storage-kit';
import { REPO_ROOT } from '../helpers/repo-files';

let root: string;
let hub: RunningHub;
beforeAll(async () => {
  root = tempDir('cli');
  await smallFixture(path.join(root, 'fixture'), 2, 2);
  hub = await startHub({ fixtureDir: path.join(root, 'fixture') });
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI asynchronously: the hub lives in this process, so a blocking spawn would deadlock. */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [node, ...prefix] = cliCommand();
  const child = spawn(node!, [...prefix, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

test('emulator-compile prints the guide §12 noise and the success line, and writes manifest.json last', async () => {
  const modelPath = path.join(root, 'fixture');
  const cache = path.join(root, 'dg');
  const ok = await cli(['emulator-compile', '--model-path', modelPath, '--tp', '8'], {
    SGLANG_DG_CACHE_DIR: cache,
    GLM_OPS_EMULATOR_GPU: 'H200',
    GLM_OPS_EMULATOR_TIME_SCALE: '0.001',
    GLM_OPS_EMULATOR_COMPILE_SECONDS: '100',
  });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain('DeepGEMM enabled but scale_fmt of checkpoint is not ue8m0');
  expect(ok.stdout.trim().split('\n').at(-1)).toBe(COMPILE_SUCCESS_LINE);
  expect(JSON.parse(fs.readFileSync(path.join(cache, 'manifest.json'), 'utf8'))).toMatchObject({
    smArch: 'sm90',
    gpuType: 'H200',
  });

  const failed = await cli(['emulator-compile', '--model-path', modelPath], {
    SGLANG_DG_CACHE_DIR: path.join(root, 'dg2'),
    GLM_OPS_EMULATOR_COMPILE_FAIL: '1',
    GLM_OPS_EMULATOR_TIME_SCALE: '0.001',
  });
  expect(failed.status).not.toBe(0);
  expect(fs.existsSync(path.join(root, 'dg2', 'manifest.json'))).toBe(false);

  const noCache = await cli(['emulator-compile', '--model-path', modelPath], { SGLANG_DG_CACHE_DIR: '' });
  expect(noCache.status).not.toBe(0);
  expect(noCache.stderr.trim().split('\n')).toHaveLength(1);
  expect(noCache.stderr).toMatch(/SGLANG_DG_CACHE_DIR/);
});

test('verify SPEC reports weights and kernels (text and --json), exit 1 until both are valid', async () => {
  const home = path.join(root, 'home');
  const specFile = path.join(root, 'spec.yaml');
  // The CLI reads the same spec the storage below prepares, so both agree on the volumes' paths.
  const spec = storageSpec();
  fs.writeFileSync(specFile, stringify(spec));
  const env = { GLM_OPS_HOME: home, HF_ENDPOINT: hub.url };
  const before = await cli(['verify', specFile, '--json'], env);
  expect(before.status).toBe(1);
  expect(JSON.parse(before.stdout)).toMatchObject({
    isReady: false,
    weights: { state: 'missing' },
    kernels: { state: 'missing' },
  });

  const storage = new LocalStorage({
    volumesRoot: path.join(home, 'volumes'),
    hubUrl: hub.url,
    compileCommand: [...cliCommand(), 'emulator-compile'],
  });
  await storage.ensureWeights(spec);
  await storage.commitVolume(spec, 'weights');
  await storage.compileKernels(spec, { rolloutId: 'cli' });

  const after = await cli(['verify', specFile], env);
  expect(after.status).toBe(0);
  expect(after.stdout).toMatch(/weights: valid \(commit [0-9a-f]{40}\)/);
  expect(after.stdout).toMatch(/sentinel: .*\.glm-ops-download-complete\.json/);
  expect(after.stdout).toMatch(/marker: .*deepgemm\/B200\/.*\.compiled-GLM-5\.1-FP8/);
  const full = await cli(['verify', specFile, '--json', '--full'], env);
  expect(JSON.parse(full.stdout)).toMatchObject({
    isReady: true,
    weights: { state: 'valid' },
    kernels: { state: 'valid', marker: { gpuType: 'B200' } },
  });
  expect(after.stdout).toMatch(/re-hashed: 0 of \d+ \(only files touched since the sentinel\)/);

  // A shard corrupted in place (same size) after the sentinel: the quick verify re-hashes exactly it and says why.
  const weights = await storage.weightsStatus(spec);
  const shard = fs.readdirSync(weights.path).find((name) => name.endsWith('.safetensors'))!;
  const target = path.join(weights.path, shard);
  await waitForCtimePast(weights.path, fs.statSync(target, { bigint: true }).ctimeNs);
  const handle = fs.openSync(target, 'r+');
  fs.writeSync(handle, Buffer.from('XXXX'), 0, 4, 128);
  fs.closeSync(handle);
  const corrupt = await cli(['verify', specFile], env);
  expect(corrupt.status).toBe(1);
  expect(corrupt.stdout).toContain('weights: corrupt');
  expect(corrupt.stdout).toContain(`re-hashed: 1 of ${weights.fileCount} (only files touched since the sentinel)`);
  expect(corrupt.stdout).toContain(`${shard}: DIFFERS (mtime, ctime changed since the sentinel)`);
});

test('verify-schedule enable refuses a spec without weights.verify, and a bad cron names weights.verify.schedule (exit 2)', async () => {
  const env = { GLM_OPS_HOME: path.join(root, 'home-schedule'), HF_ENDPOINT: hub.url };
  const plain = path.join(root, 'no-verify.yaml');
  fs.writeFileSync(plain, stringify(storageSpec()));
  const missing = await cli(['verify-schedule', 'enable', plain], env);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain('weights.verify is not set');
  const badCron = path.join(root, 'bad-cron.yaml');
  fs.writeFileSync(badCron, stringify({ ...storageSpec(), weights: { verify: { schedule: 'every sunday' } } }));
  const invalid = await cli(['verify-schedule', 'enable', badCron], env);
  expect(invalid.status).toBe(2);
  expect(invalid.stderr + invalid.stdout).toMatch(/weights\.verify\.schedule/);
});
