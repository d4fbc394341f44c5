import { assertSafeArgValue, buildSglangArgv, SGLANG_LAUNCH_MODULE } from '../../src/spec/argv-builder';
import { renderDeployConfig } from '../../src/platforms/modal/deploy-config';
import type { Spec } from '../../src/spec/schema';
import { parseSglangArgv } from '../../src/spec/sglang-argparse';
import { flagTableFor } from '../../src/spec/sglang-flags';
import { loadExampleSpec } from '../helpers/test-spec';

/** The example spec on another SGLang image, with some args replaced or added. */
function onImage(spec: Spec, image: string, args: Record<string, string | number | boolean> = {}): Spec {
  return { ...spec, sglang: { ...spec.sglang, image, args: { ...spec.sglang.args, ...args } } };
}

/** The value after a flag in an argv. */
function valueAfter(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
}

/**
 * The guide's launch flags (glm51-modal-guide-facts.md §3 rows 1–22) plus the GLM-5.1 parsers, typed by hand, for the
 * guide's image (SGLang 0.5.10). One spelling differs from the guide on purpose: the guide writes `--tp 8`, which
 * SGLang's argparse accepts only as an abbreviation of `--tp-size` (no release defines `--tp`), so a release adding
 * another `--tp...` flag would make it ambiguous; the builder renders the canonical `--tp-size`.
 */
const GUIDE_FLAGS = [
  '--model-path',
  '/model-cache/GLM-5.1-FP8',
  '--served-model-name',
  'glm-5.1',
  '--tp-size',
  '8',
  '--host',
  '0.0.0.0',
  '--port',
  '8000',
  '--trust-remote-code',
  '--ep',
  '1',
  '--attention-backend',
  'nsa',
  '--nsa-decode-backend',
  'trtllm',
  '--nsa-prefill-backend',
  'trtllm',
  '--moe-runner-backend',
  'flashinfer_trtllm',
  '--enable-flashinfer-allreduce-fusion',
  '--speculative-algorithm',
  'EAGLE',
  '--speculative-num-steps',
  '3',
  '--speculative-eagle-topk',
  '1',
  '--speculative-num-draft-tokens',
  '4',
  '--mem-fraction-static',
  '0.88',
  '--max-running-requests',
  '48',
  '--max-prefill-tokens',
  '32768',
  '--max-total-tokens',
  '65536',
  '--watchdog-timeout',
  '1200',
  '--enable-metrics',
  '--tool-call-parser',
  'glm47',
  '--reasoning-parser',
  'glm45',
];

describe('buildSglangArgv', () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it("renders the guide's production flag list exactly (golden)", () => {
    expect(buildSglangArgv(spec)).toEqual(GUIDE_FLAGS);
    expect(SGLANG_LAUNCH_MODULE).toEqual(['python3', '-m', 'sglang.launch_server']);
  });

  it('never renders a KV cache dtype for the production spec (#22359)', () => {
    expect(buildSglangArgv(spec)).not.toContain('--kv-cache-dtype');
  });

  it('appends --api-key last, only when given at run time', () => {
    const argv = buildSglangArgv(spec, { apiKey: 'sk-test-123' });
    expect(argv.slice(-2)).toEqual(['--api-key', 'sk-test-123']);
    expect(buildSglangArgv(spec, { apiKey: '' })).not.toContain('--api-key');
    expect(renderDeployConfig(spec).argv).not.toContain('--api-key');
  });

  it('applies overrides for model path, host and port', () => {
    const argv = buildSglangArgv(spec, { modelPath: '/tmp/weights/GLM', host: '127.0.0.1', port: 31000 });
    expect(argv.slice(0, 10)).toEqual([
      '--model-path',
      '/tmp/weights/GLM',
      '--served-model-name',
      'glm-5.1',
      '--tp-size',
      '8',
      '--host',
      '127.0.0.1',
      '--port',
      '31000',
    ]);
  });

  it('omits false flags, renders true as a bare switch, and takes tp from gpu.count when unset', () => {
    const { tp: _tp, ...args } = spec.sglang.args;
    const argv = buildSglangArgv({
      ...spec,
      gpu: { type: 'B200', count: 4 },
      sglang: { ...spec.sglang, args: { ...args, 'enable-metrics': false, 'disable-radix-cache': true } },
    });
    expect(argv).not.toContain('--enable-metrics');
    expect(argv.slice(-1)).toEqual(['--disable-radix-cache']);
    expect(argv.slice(4, 6)).toEqual(['--tp-size', '4']);
  });

  it('does not add --tp-size when an SGLang alias sets it', () => {
    const { tp: _tp, ...args } = spec.sglang.args;
    const argv = buildSglangArgv({ ...spec, sglang: { ...spec.sglang, args: { 'tensor-parallel-size': 8, ...args } } });
    expect(argv).not.toContain('--tp-size');
    expect(argv).toContain('--tensor-parallel-size');
  });

  it('re-checks specs built in code: unsafe values and names throw, the API key never leaks', () => {
    const unsafe = {
      ...spec,
      sglang: { ...spec.sglang, args: { ...spec.sglang.args, 'tool-call-parser': 'glm47; rm -rf /' } },
    };
    expect(() => buildSglangArgv(unsafe)).toThrow(/sglang.args.tool-call-parser/);
    const badName = { ...spec, sglang: { ...spec.sglang, args: { 'x y': true } } };
    expect(() => buildSglangArgv(badName)).toThrow(/flag name/);
    expect(() => buildSglangArgv(spec, { apiKey: 'sk-secret value' })).toThrow(/API key/);
    try {
      buildSglangArgv(spec, { apiKey: 'sk-secret value' });
    } catch (err) {
      expect(String(err)).not.toContain('sk-secret');
    }
    expect(() => buildSglangArgv(spec, { port: 70000 })).toThrow(/port/);
  });

  it.each([['a b'], ['x\n'], ['-x'], ['$(x)'], ['`x`'], ['a|b'], ['a&b'], ['a>b'], [''], ["it's"], ['a*']])(
    'assertSafeArgValue refuses %j',
    (value) => {
      expect(() => assertSafeArgValue(value)).toThrow();
    },
  );

  it.each([
    ['flashinfer_trtllm'],
    ['/model-cache/GLM-5.1-FP8'],
    ['0.88'],
    ['key=value,other'],
    ['lmsysorg/sglang:v0.5.10'],
  ])('assertSafeArgValue accepts %j', (value) => {
    expect(() => assertSafeArgValue(value)).not.toThrow();
  });
});

describe('renderDeployConfig', () => {
  it('renders what modal/deploy.py reads', () => {
    const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');
    const config = renderDeployConfig(spec);
    expect(config).toMatchObject({
      schemaVersion: 1,
      app: 'glm-5.1-production',
      environment: 'main',
      model: { repo: 'zai-org/GLM-5.1-FP8', revision: 'main', servedName: 'glm-5.1', path: '/model-cache/GLM-5.1-FP8' },
      gpu: 'B200:8',
      gpuType: 'B200',
      gpuCount: 8,
      image: 'lmsysorg/sglang:v0.5.10',
      modal: { minContainers: 0, maxContainers: 3, scaledownWindow: 900, maxInputs: 20 },
      volumes: {
        weights: { name: 'glm51-model-weights', mountPath: '/model-cache' },
        kernels: { name: 'glm51-deepgemm-cache', mountPath: '/dg-cache' },
      },
      health: { startupTimeout: 900, pollInterval: 1 },
      warmup: { timeout: 600 },
      secrets: { apiKey: 'glm-api-key' },
      kernelMarkerName: '.compiled-GLM-5.1-FP8',
      port: 8000,
    });
    expect(config.argv).toEqual(GUIDE_FLAGS);
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
  });
});

describe('canonical spellings per SGLang release', () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it("0.5.10 (the guide's image): the nsa spellings are the release's own, rendered as written", () => {
    const argv = buildSglangArgv(spec);
    expect(valueAfter(argv, '--attention-backend')).toBe('nsa');
    expect(argv).toEqual(expect.arrayContaining(['--nsa-decode-backend', '--nsa-prefill-backend']));
    expect(argv).not.toContain('--tp');
  });

  it('0.5.17: deprecated nsa aliases render as the dsa flags and value SGLang forwards them to', () => {
    const argv = buildSglangArgv(onImage(spec, 'lmsysorg/sglang:v0.5.17'));
    expect(valueAfter(argv, '--attention-backend')).toBe('dsa');
    expect(valueAfter(argv, '--dsa-decode-backend')).toBe('trtllm');
    expect(valueAfter(argv, '--dsa-prefill-backend')).toBe('trtllm');
    expect(argv).not.toContain('--nsa-decode-backend');
  });

  it('0.5.23: a spec in the dsa spelling renders dsa, and the deprecated value nsa becomes dsa', () => {
    const { 'nsa-decode-backend': _d, 'nsa-prefill-backend': _p, ...rest } = spec.sglang.args;
    const next = onImage({ ...spec, sglang: { ...spec.sglang, args: rest } }, 'lmsysorg/sglang:v0.5.23', {
      'dsa-decode-backend': 'trtllm',
      'dsa-prefill-backend': 'trtllm',
    });
    const argv = buildSglangArgv(next);
    expect(valueAfter(argv, '--attention-backend')).toBe('dsa');
    expect(valueAfter(argv, '--dsa-decode-backend')).toBe('trtllm');
    expect(valueAfter(argv, '--tp-size')).toBe('8');
  });

  it('0.5.23: flags the release dropped pass through unchanged, so SGLang (or the emulator) rejects them', () => {
    const argv = buildSglangArgv(onImage(spec, 'lmsysorg/sglang:v0.5.23'));
    expect(argv).toContain('--nsa-decode-backend');
    expect(() => parseSglangArgv(flagTableFor('0.5.23')!, argv)).toThrow(
      /unrecognized arguments: --nsa-decode-backend/,
    );
  });

  it('an abbreviation renders as the full name', () => {
    const { 'max-prefill-tokens': _m, ...rest } = spec.sglang.args;
    const argv = buildSglangArgv({ ...spec, sglang: { ...spec.sglang, args: { ...rest, 'max-prefill': 32768 } } });
    expect(valueAfter(argv, '--max-prefill-tokens')).toBe('32768');
    expect(argv).not.toContain('--max-prefill');
  });

  it.each(['examples/glm-5.1-b200.yaml', 'examples/glm-5.1-h200.yaml', 'examples/local-demo.yaml'])(
    "%s renders an argv its own release's parser accepts",
    (file) => {
      const example = loadExampleSpec(file);
      const parsed = parseSglangArgv(flagTableFor('0.5.10')!, buildSglangArgv(example));
      expect(parsed.namespace.tensor_parallel_size).toBe(example.gpu.count);
      expect(parsed.namespace.model_path).toBe('/model-cache/GLM-5.1-FP8');
    },
  );
});
