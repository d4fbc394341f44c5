import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../config/paths';
import { startEmulator } from '../emulator';
import { startScratchPlatform } from '../platforms/local/scratch-platform';
import { buildSglangArgv } from '../spec/argv-builder';
import { parseSpecText } from '../spec/parse-spec';

/**
 * The serving stack the OpenAI-client conformance suite (tests-python/openai_conformance) talks to: an SGLang
 * emulator on a free port, and the local platform's router in front of another one (the app of
 * examples/local-demo.yaml, sped up). Prints one JSON line `{emulator_url, router_url, api_key, served_model_name}`
 * once both answer, then runs until stdin closes or SIGTERM/SIGINT, and removes its temp folder.
 */
async function main(home: string): Promise<void> {
  const apiKey = `sk-conformance-${randomBytes(12).toString('hex')}`;
  const platform = await startScratchPlatform({
    home,
    apiKey,
    timings: { stopGraceMs: 1_000, replaceDelayMs: 400, maxReplaceDelayMs: 2_000, tickMs: 100 },
    modelConfig: { architectures: ['GlmMoeDsaForCausalLM'] },
    kernelManifest: { smArch: 'sm100', gpuType: 'B200' },
  });
  const { modelPath, kernelCacheDir, client } = platform;

  const parsed = parseSpecText(fs.readFileSync(path.join(projectRoot(), 'examples', 'local-demo.yaml'), 'utf8'));
  if (!parsed.ok) throw new Error(`examples/local-demo.yaml: ${JSON.stringify(parsed.errors)}`);
  const spec = structuredClone(parsed.spec);
  spec.app = 'conformance';
  spec.local.timeScale = 0.001;
  spec.modal.maxContainers = 1;
  spec.modal.scaledownWindow = 3600;

  const argv = buildSglangArgv(spec, { modelPath, host: '127.0.0.1' });
  argv[argv.indexOf('--port') + 1] = '0';
  const emulator = await startEmulator(
    [...argv, '--api-key', apiKey],
    {
      GLM_OPS_EMULATOR_TIME_SCALE: '0.001',
      GLM_OPS_EMULATOR_SGLANG_IMAGE: spec.sglang.image,
      DG_JIT_CACHE_DIR: kernelCacheDir,
      GLM_OPS_EMULATOR_CONFIG_JSON: JSON.stringify({ phases: { graphCaptureMs: 0 } }),
    },
    {},
  );
  await emulator.ready;

  await client.deploy(spec, { rolloutId: 'conformance-1' });
  const { url: routerUrl } = await client.endpoint(spec.app);

  let isStopping = false;
  const stop = async (): Promise<void> => {
    if (isStopping) return;
    isStopping = true;
    await emulator.close().catch(() => undefined);
    await platform.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
  console.log(
    JSON.stringify({
      emulator_url: emulator.url,
      router_url: routerUrl,
      api_key: apiKey,
      served_model_name: spec.model.servedName,
    }),
  );
}

const stackHome = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-conformance-'));
main(stackHome).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  fs.rmSync(stackHome, { recursive: true, force: true });
  process.exit(1);
});
