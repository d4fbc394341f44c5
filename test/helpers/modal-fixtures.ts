import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModalPlatform, type ModalTimeouts } from '../../src/platforms/modal/modal-platform';
import { defaultModelPath, MODEL_CACHE_MOUNT } from '../../src/spec/argv-builder';
import { opsAppName } from '../../src/platforms/modal/deploy-config';
import type { Spec } from '../../src/spec/schema';
import { lookupGpu } from '../../src/spec/gpu-catalog';
import { SENTINEL_FILE } from '../../src/storage/download-sentinel';
import { kernelMarkerName } from '../../src/storage/storage-layout';
import { DEPLOY_PY, type CallPlan, type ModalStandin, MODAL_BIN, PYTHON_BIN } from './modal-standin';

/** Fast polling for tests: the call semantics are the production ones, only the waits are shorter. */
export const TEST_TIMEOUTS: Partial<ModalTimeouts> = { pollWaitSec: 1, progressEveryMs: 200 };

/** A ModalPlatform driving the real client against the stand-in, with its own state folder. */
export function standinPlatform(
  standin: ModalStandin,
  options: { env?: NodeJS.ProcessEnv; home?: string; timeouts?: Partial<ModalTimeouts> } = {},
): { platform: ModalPlatform; home: string } {
  const home = options.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-modal-state-'));
  const platform = new ModalPlatform({
    modalBin: MODAL_BIN,
    pythonBin: PYTHON_BIN,
    deployPy: DEPLOY_PY,
    env: options.env ?? standin.env,
    stateDir: home,
    timeouts: { ...TEST_TIMEOUTS, ...options.timeouts },
  });
  return { platform, home };
}

/** Gives the stand-in what a first rollout needs beforehand: the API-key secret (the volumes deploy.py creates). */
export async function prepareEnvironment(
  standin: ModalStandin,
  spec: Spec,
  apiKey = 'sk-standin-test-key',
): Promise<void> {
  await standin.createSecret(spec.secrets.apiKey, { API_KEY: apiKey });
}

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** A small checkpoint as download_model would leave it (files, then the sentinel), and the status it reports. */
export function downloadedWeights(spec: Spec): {
  writes: NonNullable<CallPlan['writes']>;
  status: { state: 'valid'; problems: string[]; commit: string; fileCount: number; bytes: number };
  commit: string;
} {
  const folder = path.posix.relative(MODEL_CACHE_MOUNT, defaultModelPath(spec));
  const files = [
    { path: 'config.json', text: '{"architectures":["GlmMoeDsaForCausalLM"]}' },
    { path: 'model-00001-of-00001.safetensors', text: 'weights-bytes-of-the-test-checkpoint' },
  ];
  const entries = files.map((file) => ({
    path: file.path,
    sizeBytes: Buffer.byteLength(file.text),
    sha256: createHash('sha256').update(file.text).digest('hex'),
  }));
  const totalBytes = entries.reduce((sum, entry) => sum + entry.sizeBytes, 0);
  const sentinel = {
    schemaVersion: 1,
    repo: spec.model.repo,
    revision: spec.model.revision,
    commit: COMMIT,
    files: entries,
    totalBytes,
    completedAt: '2026-03-01T05:00:00Z',
  };
  return {
    writes: [
      ...files.map((file) => ({ volume: spec.volumes.weights, path: `${folder}/${file.path}`, text: file.text })),
      { volume: spec.volumes.weights, path: `${folder}/${SENTINEL_FILE}`, json: sentinel },
    ],
    status: { state: 'valid', problems: [], commit: COMMIT, fileCount: files.length, bytes: totalBytes },
    commit: COMMIT,
  };
}

/** The marker a finished compile writes last at the kernels volume root. */
export function compiledMarker(
  spec: Spec,
  rolloutId: string,
  commit = COMMIT,
): NonNullable<CallPlan['writes']>[number] {
  return {
    volume: spec.volumes.kernels,
    path: kernelMarkerName(spec.model.repo),
    json: {
      model: spec.model.repo,
      gpuType: spec.gpu.type,
      smArch: lookupGpu(spec.gpu.type)?.smArch,
      sglangImage: spec.sglang.image,
      modelRevision: commit,
      compiledAt: '2026-03-01T06:00:00Z',
      rolloutId,
    },
  };
}

/** Plans for the ops app of `spec`: a download that writes the checkpoint, a compile that writes the marker, commits. */
export async function planStorage(
  standin: ModalStandin,
  spec: Spec,
  options: { downloadMs?: number; compileMs?: number; rolloutId?: string } = {},
): Promise<void> {
  const app = opsAppName(spec.app);
  const weights = downloadedWeights(spec);
  await standin.setPlan('download_model', {
    app,
    durationMs: options.downloadMs ?? 200,
    result: JSON.stringify({ skipped: false, status: weights.status, durationMs: options.downloadMs ?? 200 }),
    writes: weights.writes,
  });
  await standin.setPlan('compile_deepgemm', {
    app,
    durationMs: options.compileMs ?? 200,
    result: JSON.stringify({
      skipped: false,
      status: { state: 'valid', reasons: [] },
      durationMs: options.compileMs ?? 200,
    }),
    writes: [compiledMarker(spec, options.rolloutId ?? 'r-compile', weights.commit)],
  });
  await standin.setPlan('commit_volume', {
    app,
    durationMs: 50,
    result: JSON.stringify({ committed: 'weights', state: 'valid' }),
  });
}
