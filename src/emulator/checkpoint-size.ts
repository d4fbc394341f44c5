import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The bytes of the checkpoint's safetensors files: what the weight load puts on the GPUs (the guide's GLM-5.1 FP8 is
 * ~700 GB; the test fixtures are small, as the recorded tiny model was: `mem usage=0.00 GB`).
 */
export function checkpointBytes(modelPath: string): number {
  let total = 0;
  try {
    for (const name of fs.readdirSync(modelPath))
      if (name.endsWith('.safetensors')) total += fs.statSync(path.join(modelPath, name)).size;
  } catch {
    return 0;
  }
  return total;
}

/**
 * The checkpoint the engine holds, GiB over all GPUs: the emulator config's `weightsGB` (a spec's `model.weightsGB`,
 * standing in for a real checkpoint beside a small fixture), else the model folder's `.safetensors` bytes.
 */
export function checkpointGiB(modelPath: string, weightsGB: number | undefined): number {
  return weightsGB === undefined ? checkpointBytes(modelPath) / 2 ** 30 : (weightsGB * 1e9) / 2 ** 30;
}
