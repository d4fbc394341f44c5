import { lintSpec } from '../../src/spec/lint';
import { deriveUpgradedSpec, UpgradeSpecError } from '../../src/spec/upgrade-spec';
import { loadExampleSpec } from '../helpers/test-spec';

describe('deriveUpgradedSpec', () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it('B200 → H200 tightens mem-fraction 0.88 → 0.83 and recompiles kernels (guide §20)', () => {
    const { spec: next, changes } = deriveUpgradedSpec(spec, { gpuType: 'h200' });
    expect(next.gpu.type).toBe('H200');
    expect(next.sglang.args['mem-fraction-static']).toBe(0.83);
    expect(changes.map((change) => change.path)).toEqual(['gpu.type', 'kernels', 'sglang.args.mem-fraction-static']);
    expect(changes.find((c) => c.path === 'kernels')).toMatchObject({ from: 'B200 (sm100)', to: 'H200 (sm90)' });
    expect(spec.sglang.args['mem-fraction-static']).toBe(0.88);
    expect(lintSpec(next).map((f) => f.rule)).not.toContain('mem-fraction-not-tightened');
  });

  it('B200 → B300 keeps mem-fraction (more VRAM)', () => {
    const { spec: next, changes } = deriveUpgradedSpec(spec, { gpuType: 'B300' });
    expect(next.sglang.args['mem-fraction-static']).toBe(0.88);
    expect(changes.map((c) => c.path)).toEqual(['gpu.type', 'kernels']);
  });

  it('an image bump changes the image and recompiles; no-op requests change nothing', () => {
    const { spec: next, changes } = deriveUpgradedSpec(spec, { sglangImage: 'lmsysorg/sglang:v0.5.11' });
    expect(next.sglang.image).toBe('lmsysorg/sglang:v0.5.11');
    expect(changes.map((c) => c.path)).toEqual(['sglang.image', 'kernels']);
    expect(deriveUpgradedSpec(spec, { gpuType: 'B200', sglangImage: spec.sglang.image }).changes).toEqual([]);
  });

  it('refuses unknown GPUs and malformed images', () => {
    expect(() => deriveUpgradedSpec(spec, { gpuType: 'TPUv5' })).toThrow(UpgradeSpecError);
    expect(() => deriveUpgradedSpec(spec, { sglangImage: 'a b' })).toThrow(/sglangImage/);
  });
});
