import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModalPlatform } from '../../../src/platforms/modal/modal-platform';
import { type CommandRunner, execaRunner } from '../../../src/platforms/modal/modal-runner';
import type { StorageProgress } from '../../../src/platforms/platform';
import { opsAppName } from '../../../src/platforms/modal/deploy-config';
import { ErrorType } from '../../../src/shared/errors';
import {
  compiledMarker,
  downloadedWeights,
  planStorage,
  prepareEnvironment,
  standinPlatform,
  TEST_TIMEOUTS,
} from '../../helpers/modal-fixtures';
import { exampleSpec } from '../../helpers/test-spec';
import { DEPLOY_PY, MODAL_BIN, type ModalStandin, PYTHON_BIN, startModalStandin } from '../../helpers/modal-standin';

/**
 * ModalPlatform through the real `modal` CLI and SDK (the pinned client in .venv) against the stand-in control plane:
 * every byte the adapter parses here was printed by Modal's own code.
 */
jest.setTimeout(300_000);

let standin: ModalStandin;
let counter = 0;
const appName = (what: string): string => `glm-${what}-${process.pid}-${++counter}`;

beforeAll(async () => {
  standin = await startModalStandin();
});
afterAll(async () => {
  await standin?.stop();
});

interface StateApp {
  name: string;
  appId: string;
  state: string;
  versions: Array<{ version: number; tag: string }>;
}
async function appsNamed(name: string): Promise<StateApp[]> {
  const state = await standin.control<{ apps: StateApp[] }>('GET', '/state');
  return state.apps.filter((app) => app.name === name);
}

describe('deploy', () => {
  test('passes name, env and tag; a retried deploy with the same rollout id finds its tag instead of deploying twice', async () => {
    const spec = exampleSpec(appName('deploy'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    const first = await platform.deploy(spec, { rolloutId: 'rollout-abc' });
    const retried = await platform.deploy(spec, { rolloutId: 'rollout-abc' });
    expect(first).toMatchObject({ app: spec.app, version: 1, rolloutId: 'rollout-abc', isCurrent: true });
    expect(retried).toMatchObject({ version: 1, rolloutId: 'rollout-abc' });
    expect(retried.spec).toEqual(spec);
    const [app] = await appsNamed(spec.app);
    expect(app?.versions.map((v) => [v.version, v.tag])).toEqual([[1, 'rollout-abc']]);
    expect(await platform.currentDeployment(spec.app)).toMatchObject({ version: 1, rolloutId: 'rollout-abc' });
  });

  test('a deploy Modal skips ("no changes detected") is the current version, recorded for this spec, not DeployFailed', async () => {
    const spec = exampleSpec(appName('noop'));
    await prepareEnvironment(standin, spec);
    const { platform, home } = standinPlatform(standin);
    await platform.deploy(spec, { rolloutId: 'r1' });
    const rerun = await platform.deploy(spec, { rolloutId: 'r2' });
    expect(rerun).toMatchObject({ version: 1, rolloutId: 'r1', isCurrent: true });
    const [app] = await appsNamed(spec.app);
    expect(app?.versions).toHaveLength(1);
    const record = JSON.parse(
      fs.readFileSync(path.join(home, 'modal', 'deployments', spec.app, app!.appId, 'v1.json'), 'utf8'),
    );
    expect(record).toMatchObject({ version: 1, rolloutId: 'r1', confirmedBy: ['r2'] });
    // A retry of the skipped rollout is skipped again and answers the same.
    expect((await platform.deploy(spec, { rolloutId: 'r2' })).version).toBe(1);
  });

  test('stop, then deploy: the new app id starts at v1 and that v1 carries the new spec and rollout, not the old ones', async () => {
    const spec = exampleSpec(appName('restart'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    await platform.deploy(spec, { rolloutId: 'old-r1' });
    const newer = { ...spec, sglang: { ...spec.sglang, image: 'lmsysorg/sglang:v0.5.11' } };
    expect((await platform.deploy(newer, { rolloutId: 'old-r2' })).version).toBe(2);
    await platform.stop(spec.app);
    expect(await platform.currentDeployment(spec.app)).toBeNull();
    const fresh = { ...spec, sglang: { ...spec.sglang, image: 'lmsysorg/sglang:v0.5.12' } };
    const deployed = await platform.deploy(fresh, { rolloutId: 'new-r3' });
    expect(deployed).toMatchObject({ version: 1, rolloutId: 'new-r3' });
    const current = await platform.currentDeployment(spec.app);
    expect(current).toMatchObject({ version: 1, rolloutId: 'new-r3' });
    expect(current?.spec.sglang.image).toBe('lmsysorg/sglang:v0.5.12');
    expect((await platform.history(spec.app)).map((d) => [d.version, d.rolloutId, d.spec.sglang.image])).toEqual([
      [1, 'new-r3', 'lmsysorg/sglang:v0.5.12'],
    ]);
    const apps = await appsNamed(spec.app);
    expect(apps.map((app) => app.state).sort()).toEqual(['deployed', 'stopped']);
  });

  test('rollback sends vN and records the new version as running the old spec', async () => {
    const spec = exampleSpec(appName('rollback'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    await platform.deploy(spec, { rolloutId: 'r1' });
    await platform.deploy(
      { ...spec, sglang: { ...spec.sglang, image: 'lmsysorg/sglang:v0.5.11' } },
      { rolloutId: 'r2' },
    );
    const back = await platform.rollback(spec.app, 1);
    expect(back).toMatchObject({ version: 3, rolloutId: 'r1', isCurrent: true });
    expect(back.spec.sglang.image).toBe(spec.sglang.image);
    await expect(platform.rollback(spec.app, 7)).rejects.toMatchObject({
      errorType: ErrorType.NotFound,
      message: expect.stringContaining('v7'),
    });
    const [app] = await appsNamed(spec.app);
    expect(app?.versions).toHaveLength(3);
  });

  test('an error the adapter cannot classify is reported with the client’s own message and the step', async () => {
    // deploy.py refuses this at import (Modal's scaledown_window limit); the client prints the exception, exit 1.
    const spec = exampleSpec(appName('refused'), (s) => {
      s.modal.scaledownWindow = 7200;
    });
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    const error = await platform.deploy(spec, { rolloutId: 'r1' }).then(
      () => {
        throw new Error('the deploy should have failed');
      },
      (err: unknown) => err as Error & { errorType: string; clientMessage?: string },
    );
    expect(error).toMatchObject({ errorType: ErrorType.DeployFailed });
    expect(error.message).toMatch(/^deploy: modal deploy exited with code 1: DeployConfigError: /);
    expect(error.message).toContain('modal.scaledownWindow 7200 is outside Modal');
    expect(error.clientMessage).toContain('DeployConfigError');
  });

  test('"not found" in the output the client streams (image build logs) does not make an unrelated failure NotFound', async () => {
    const spec = exampleSpec(appName('buildlog'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    await standin.control('POST', '/behaviour', {
      imageBuild: { logs: ["E: Package 'libfoo' not found", 'pip: No matching distribution found for bar'], times: 1 },
      failRpc: { name: 'AppPublish', status: 'FAILED_PRECONDITION', message: 'deployment quota exceeded', times: 1 },
    });
    try {
      const error = await platform.deploy(spec, { rolloutId: 'r1' }).then(
        () => {
          throw new Error('the deploy should have failed');
        },
        (err: unknown) => err as Error & { errorType: string },
      );
      expect(error).toMatchObject({
        errorType: ErrorType.DeployFailed,
        message: 'deploy: modal deploy exited with code 1: Error: deployment quota exceeded',
      });
    } finally {
      await standin.control('POST', '/behaviour', { imageBuild: null, failRpc: null });
    }
  });

  test('a missing API-key secret fails the deploy as NotFound with the client’s message', async () => {
    const spec = exampleSpec(appName('nosecret'), (s) => {
      s.secrets.apiKey = `absent-${counter}`;
    });
    const { platform } = standinPlatform(standin);
    await expect(platform.deploy(spec, { rolloutId: 'r1' })).rejects.toMatchObject({
      errorType: ErrorType.NotFound,
      message: expect.stringContaining(`Secret 'absent-${counter}' not found`),
    });
  });
});

describe('verified versions', () => {
  test('kept beside the deployment records per app id: apart from what serves, and not inherited by a new app id', async () => {
    const spec = exampleSpec(appName('verified'));
    await prepareEnvironment(standin, spec);
    const { platform, home } = standinPlatform(standin);
    await platform.deploy(spec, { rolloutId: 'r1' });
    expect(await platform.lastVerified(spec.app)).toBeNull();
    await platform.markVerified(spec.app, 1);
    const newer = { ...spec, sglang: { ...spec.sglang, image: 'lmsysorg/sglang:v0.5.11' } };
    await platform.deploy(newer, { rolloutId: 'r2' });
    const verified = await platform.lastVerified(spec.app);
    expect(verified).toMatchObject({ version: 1, rolloutId: 'r1', isCurrent: false });
    expect(verified?.spec.sglang.image).toBe(spec.sglang.image);
    // The record lives in the worker's state dir beside the deployment records, under the Modal app id.
    const [app] = await appsNamed(spec.app);
    const file = path.join(home, 'modal', 'deployments', spec.app, app!.appId, 'verified.json');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ verifications: [{ version: 1 }] });
    await expect(platform.markVerified(spec.app, 9)).rejects.toMatchObject({
      errorType: ErrorType.NotFound,
      message: expect.stringContaining('has no version v9'),
    });

    // After `modal app stop` the next deploy is a new app id whose v1 is not the verified v1 of the old one.
    await platform.stop(spec.app);
    await platform.deploy(newer, { rolloutId: 'r3' });
    expect(await platform.lastVerified(spec.app)).toBeNull();
  }, 300_000);
});

describe('stop', () => {
  test('stopping an app that is already stopped (or was never deployed) succeeds', async () => {
    const spec = exampleSpec(appName('stop'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    await platform.deploy(spec, { rolloutId: 'r1' });
    await platform.stop(spec.app);
    // The client exits 1 with "App is already stopped." here; that is the state asked for.
    await expect(platform.stop(spec.app)).resolves.toBeUndefined();
    await expect(platform.stop(appName('never'))).resolves.toBeUndefined();
  });
});

describe('client output', () => {
  test('FORCE_COLOR=1 in the worker environment does not colour the JSON the adapter parses', async () => {
    const spec = exampleSpec(appName('colour'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin, { env: { ...standin.env, FORCE_COLOR: '1', NO_COLOR: '' } });
    await platform.deploy(spec, { rolloutId: 'r-colour' });
    expect(await platform.currentDeployment(spec.app)).toMatchObject({ version: 1, rolloutId: 'r-colour' });
    expect((await platform.history(spec.app)).map((d) => d.version)).toEqual([1]);
  });

  test('engine log lines that say "not found" are data: logs returns them', async () => {
    const spec = exampleSpec(appName('logs'));
    await prepareEnvironment(standin, spec);
    const { platform } = standinPlatform(standin);
    await platform.deploy(spec, { rolloutId: 'r1' });
    await standin.control('POST', `/apps/${spec.app}/logs`, {
      lines: [
        { text: '[health] passed on attempt 3', source: 'stdout' },
        { text: 'INFO: 127.0.0.1 "GET /v1/nothing HTTP/1.1" 404 Not Found', source: 'stdout' },
        { text: 'tokenizer file not found, using the fast tokenizer', source: 'stderr' },
      ],
    });
    const lines = await platform.logs(spec.app, { limit: 50 });
    expect(lines.map((line) => line.text)).toEqual(
      expect.arrayContaining([
        '[health] passed on attempt 3',
        expect.stringContaining('404 Not Found'),
        expect.stringContaining('file not found'),
      ]),
    );
    expect(lines.find((line) => line.text.startsWith('[health]'))?.stream).toBe('system');
  });
});

describe('volumes', () => {
  test('volume files are read from a local file, not stdout (where the client prints a trailer after the bytes)', async () => {
    const spec = exampleSpec(appName('volumes'), (s) => {
      s.volumes = { weights: `w-${counter}`, kernels: `k-${counter}` };
    });
    await standin.createVolume(spec.volumes.weights);
    await standin.createVolume(spec.volumes.kernels);
    const { platform } = standinPlatform(standin);
    expect(await platform.weightsStatus(spec)).toMatchObject({ state: 'missing', problems: [] });
    expect((await platform.kernelCacheStatus(spec)).state).toBe('missing');
    const weights = downloadedWeights(spec);
    for (const write of weights.writes) {
      await standin.putFile(write.volume, write.path, write.text ?? JSON.stringify(write.json));
    }
    const marker = compiledMarker(spec, 'r-owner', weights.commit);
    await standin.putFile(marker.volume, marker.path, JSON.stringify(marker.json));
    expect(await platform.weightsStatus(spec)).toMatchObject({
      state: 'valid',
      commit: weights.commit,
      fileCount: 2,
      problems: [],
    });
    expect(await platform.kernelCacheStatus(spec)).toMatchObject({ state: 'valid', reasons: [] });
    // The marker is attributed to the rollout that compiled it: another rollout's compensation leaves it alone.
    expect(await platform.invalidateKernels(spec, { onlyIfRolloutId: 'r-other' })).toEqual({ removed: false });
    expect(await platform.invalidateKernels(spec, { onlyIfRolloutId: 'r-owner' })).toEqual({ removed: true });
    expect((await platform.kernelCacheStatus(spec)).state).toBe('missing');
  });
});

describe('long functions as spawned calls on the ops app', () => {
  test('ensureWeights deploys the ops app, spawns download_model, heartbeats its call id and returns its result', async () => {
    const spec = exampleSpec(appName('download'));
    await prepareEnvironment(standin, spec);
    await planStorage(standin, spec, { downloadMs: 1_500 });
    const { platform } = standinPlatform(standin);
    const progress: StorageProgress[] = [];
    const result = await platform.ensureWeights(spec, { onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({
      skipped: false,
      filesDownloaded: 2,
      status: { state: 'valid', commit: downloadedWeights(spec).commit },
    });
    const calls = (await standin.calls()).filter((call) => call.app === opsAppName(spec.app));
    expect(calls).toEqual([
      expect.objectContaining({ function: 'download_model', invocation: 'spawn', state: 'succeeded' }),
    ]);
    // Reports before the spawn (while the ops app deploys) carry no call; every one after it carries the call.
    const first = progress.findIndex((p) => p.remoteCall !== undefined);
    expect(progress[first]?.remoteCall).toMatchObject({
      callId: calls[0]?.id,
      function: 'download_model',
      app: opsAppName(spec.app),
    });
    expect(progress.slice(first).every((p) => p.remoteCall?.callId === calls[0]?.id)).toBe(true);
    const [ops] = await appsNamed(opsAppName(spec.app));
    expect(ops?.state).toBe('deployed');
    // The serving app was not touched: the ops app never defines the Server.
    expect(await appsNamed(spec.app)).toEqual([]);
    expect(await platform.weightsStatus(spec)).toMatchObject({ state: 'valid' });
  });

  test('a wait stopped by a lost attempt leaves the call running; the retry re-attaches from the heartbeat details', async () => {
    const spec = exampleSpec(appName('reattach'));
    await prepareEnvironment(standin, spec);
    await planStorage(standin, spec, { downloadMs: 6_000 });
    const first = standinPlatform(standin);
    const stop = new AbortController();
    let last: StorageProgress | undefined;
    const attempt = first.platform.ensureWeights(spec, {
      signal: stop.signal,
      onProgress: (p) => {
        last = p;
        if (p.remoteCall) stop.abort();
      },
    });
    await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining('keeps running on Modal') });
    const ops = (): Promise<Array<{ function: string; state: string }>> =>
      standin.calls().then((calls) => calls.filter((call) => call.app === opsAppName(spec.app)));
    expect(await ops()).toEqual([expect.objectContaining({ function: 'download_model', state: 'running' })]);
    // A new worker (fresh adapter, no memory of the first) given the last heartbeat re-attaches instead of spawning.
    const retry = standinPlatform(standin, { home: first.home });
    const result = await retry.platform.ensureWeights(spec, { resumeFrom: last });
    expect(result.status.state).toBe('valid');
    expect(await ops()).toEqual([expect.objectContaining({ function: 'download_model', state: 'succeeded' })]);
  });

  test('a retry that could not re-attach queues behind the running download (one container): never two at once', async () => {
    const spec = exampleSpec(appName('queued'));
    await prepareEnvironment(standin, spec);
    // Long enough that the retry's own `modal` start-up (seconds on a loaded machine) still finds the first call running.
    await planStorage(standin, spec, { downloadMs: 15_000 });
    const { platform } = standinPlatform(standin);
    const stop = new AbortController();
    await expect(
      platform.ensureWeights(spec, { signal: stop.signal, onProgress: (p) => p.remoteCall && stop.abort() }),
    ).rejects.toThrow('keeps running on Modal');
    // The heartbeat with the call id never reached Temporal: the retry spawns a second call.
    const states = new Set<string>();
    const second = platform.ensureWeights(spec, {
      onProgress: () => {
        void standin.calls().then((calls) => {
          const mine = calls.filter((c) => c.app === opsAppName(spec.app)).map((c) => c.state);
          states.add(mine.sort().join(','));
        });
      },
    });
    expect((await second).status.state).toBe('valid');
    const calls = (await standin.calls()).filter((c) => c.app === opsAppName(spec.app));
    expect(calls.map((c) => c.state)).toEqual(['succeeded', 'succeeded']);
    expect([...states]).toContain('queued,running');
    expect([...states].some((seen) => seen.split(',').filter((state) => state === 'running').length > 1)).toBe(false);
  });

  test('progress keeps coming while the ops app deploys (a first deploy builds images for minutes)', async () => {
    const spec = exampleSpec(appName('slowops'));
    await prepareEnvironment(standin, spec);
    await planStorage(standin, spec, { downloadMs: 200 });
    let deploying = false;
    let reportsWhileDeploying = 0;
    // The real client, with the ops deploy held back a while as a slow first image build would hold it.
    const slowDeploy: CommandRunner = async (request) => {
      if (request.args[0] !== 'deploy') return execaRunner(request);
      deploying = true;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      try {
        return await execaRunner(request);
      } finally {
        deploying = false;
      }
    };
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-state-'));
    const platform = new ModalPlatform({
      modalBin: MODAL_BIN,
      pythonBin: PYTHON_BIN,
      deployPy: DEPLOY_PY,
      env: standin.env,
      stateDir: home,
      runner: slowDeploy,
      timeouts: TEST_TIMEOUTS,
    });
    await platform.ensureWeights(spec, {
      onProgress: (p) => {
        if (deploying && !p.remoteCall) reportsWhileDeploying += 1;
      },
    });
    expect(reportsWhileDeploying).toBeGreaterThan(0);
  });

  test('a heartbeat naming a call for other inputs is not re-attached to', async () => {
    const spec = exampleSpec(appName('inputs'));
    await prepareEnvironment(standin, spec);
    await planStorage(standin, spec, { downloadMs: 300 });
    const { platform } = standinPlatform(standin);
    let last: StorageProgress | undefined;
    await platform.ensureWeights(spec, { onProgress: (p) => (last = p) });
    const other = { ...spec, model: { ...spec.model, revision: 'v2' } };
    await platform.ensureWeights(other, { resumeFrom: last });
    const calls = (await standin.calls()).filter((call) => call.app === opsAppName(spec.app));
    expect(calls.map((call) => call.function)).toEqual(['download_model', 'download_model']);
  });

  test('an abort cancels the remote compile on Modal; a failed compile reports the remote error with the step', async () => {
    const spec = exampleSpec(appName('compile'));
    await prepareEnvironment(standin, spec);
    const weights = downloadedWeights(spec);
    for (const write of weights.writes)
      await standin.putFile(write.volume, write.path, write.text ?? JSON.stringify(write.json));
    await planStorage(standin, spec, { compileMs: 30_000 });
    const { platform } = standinPlatform(standin);
    const stop = new AbortController();
    const attempt = platform.compileKernels(spec, {
      rolloutId: 'r-abort',
      signal: stop.signal,
      abortRemote: stop.signal,
      onProgress: (p) => {
        if (p.remoteCall) stop.abort();
      },
    });
    await expect(attempt).rejects.toMatchObject({
      errorType: ErrorType.Aborted,
      message: expect.stringContaining('cancelled on Modal'),
    });
    const compiles = async (): Promise<Array<{ state: string }>> =>
      (await standin.calls()).filter(
        (call) => call.app === opsAppName(spec.app) && call.function === 'compile_deepgemm',
      );
    expect(await compiles()).toEqual([expect.objectContaining({ state: 'cancelled' })]);

    await standin.setPlan('compile_deepgemm', {
      app: opsAppName(spec.app),
      durationMs: 100,
      error: {
        type: 'RuntimeError',
        message: '[compile] sglang.compile_deep_gemm exited with code 1; see the lines above',
      },
    });
    await expect(platform.compileKernels(spec, { rolloutId: 'r-fail' })).rejects.toMatchObject({
      errorType: ErrorType.CompileFailed,
      message: expect.stringMatching(
        /^compile: compile_deepgemm \(call fc-\w+\) failed on Modal: RuntimeError: \[compile\] sglang.compile_deep_gemm exited with code 1/,
      ),
    });
  });

  test('commitVolume and verify_setup --full run as spawned calls too', async () => {
    const spec = exampleSpec(appName('commit'));
    await prepareEnvironment(standin, spec);
    await planStorage(standin, spec);
    const weights = downloadedWeights(spec);
    await standin.setPlan('verify_setup', {
      app: opsAppName(spec.app),
      durationMs: 800,
      result: JSON.stringify({
        weights: weights.status,
        kernels: { state: 'missing', reasons: [] },
        matchesSpec: false,
      }),
    });
    const { platform } = standinPlatform(standin);
    await platform.commitVolume(spec, 'weights');
    expect(await platform.weightsStatus(spec, { full: true })).toMatchObject({
      state: 'valid',
      commit: weights.commit,
    });
    const calls = (await standin.calls()).filter((call) => call.app === opsAppName(spec.app));
    expect(calls.map((call) => [call.function, call.kwargs, call.invocation, call.state])).toEqual([
      ['commit_volume', { kind: 'weights' }, 'spawn', 'succeeded'],
      ['verify_setup', { full: true }, 'spawn', 'succeeded'],
    ]);
  });
});

describe('credentials', () => {
  test('a rejected token maps to PlatformUnavailable and neither token value appears anywhere in the error', async () => {
    const tokenId = 'ak-FAKEtokenID1234567890';
    const tokenSecret = 'as-FAKEtokenSECRET0987654321';
    const { platform } = standinPlatform(standin, {
      env: { ...standin.env, MODAL_TOKEN_ID: tokenId, MODAL_TOKEN_SECRET: tokenSecret },
    });
    const error = await platform.history('glm-any').then(
      () => {
        throw new Error('history should have failed');
      },
      (err: unknown) => err as Error & { errorType: string },
    );
    expect(error).toMatchObject({
      errorType: ErrorType.PlatformUnavailable,
      message: expect.stringContaining('modal token new'),
    });
    const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
    expect(everything).not.toContain(tokenId);
    expect(everything).not.toContain(tokenSecret);
  });

  test('no credentials at all maps to PlatformUnavailable with the fix', async () => {
    const env: NodeJS.ProcessEnv = { ...standin.env };
    delete env.MODAL_TOKEN_ID;
    delete env.MODAL_TOKEN_SECRET;
    const { platform } = standinPlatform(standin, { env });
    await expect(platform.stop('glm-any')).rejects.toMatchObject({
      errorType: ErrorType.PlatformUnavailable,
      message: expect.stringContaining('modal token new'),
    });
  });

  test('a missing modal binary is PlatformUnavailable', async () => {
    const platform = new ModalPlatform({
      modalBin: '/nonexistent/modal',
      pythonBin: PYTHON_BIN,
      deployPy: DEPLOY_PY,
      env: { ...standin.env },
      stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-state-')),
    });
    await expect(platform.stop('x')).rejects.toMatchObject({ errorType: ErrorType.PlatformUnavailable });
    expect(MODAL_BIN).toContain('.venv');
  });
});
