import { assertSafeArgValue, buildSglangArgv, SGLANG_LAUNCH_MODULE } from '../../src/spec/argv-builder';
import { renderDeployConfig } from '../../src/spec/deploy-config';
import { loadExampleSpec } from './spec-test-helpers';

/** The guide's launch flags (glm51-modal-guide-facts.md §3 rows 1–22) plus the GLM-5.1 parsers, typed by hand. */
const GUIDE_FLAGS = [
  '--model-path',
  '/model-cache/GLM-5.1-FP8',
  '--served-model-name',
  'glm-5.1',
  '--tp',
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
      '--tp',
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
    expect(argv.slice(4, 6)).toEqual(['--tp', '4']);
  });

  it('does not add --tp when an SGLang alias sets it', () => {
    const { tp: _tp, ...args } = spec.sglang.args;
    const argv = buildSglangArgv({ ...spec, sglang: { ...spec.sglang, args: { 'tp-size': 8, ...args } } });
    expect(argv).not.toContain('--tp');
    expect(argv).toContain('--tp-size');
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
