import { candidateSpec, trialAppName } from '../../src/workflows/tune-candidate-spec';
import { testSpec } from '../helpers/test-spec';

describe('candidateSpec: the spec a trial deploys', () => {
  const base = testSpec('glm-serving');

  it('applies the candidate under the throw-away app <app>-t<n>, with the base volumes', () => {
    const spec = candidateSpec(base, { args: { 'max-running-requests': 32 }, modal: { maxInputs: 32 } }, 3);
    expect(spec.app).toBe('glm-serving-t3');
    expect(spec.sglang.args['max-running-requests']).toBe(32);
    expect(spec.modal.maxInputs).toBe(32);
    expect(spec.modal.maxContainers).toBe(base.modal.maxContainers);
    expect(spec.volumes).toEqual(base.volumes);
    expect(spec.sglang.args['mem-fraction-static']).toBe(base.sglang.args['mem-fraction-static']);
    // The base is not changed.
    expect(base.app).toBe('glm-serving');
    expect(base.sglang.args['max-running-requests']).toBe(48);
  });

  it('omits a flag the candidate sets to false (EAGLE against plain decoding)', () => {
    const spec = candidateSpec(base, { args: { 'speculative-algorithm': false }, modal: {} }, 1);
    expect(spec.sglang.args).not.toHaveProperty('speculative-algorithm');
    expect(base.sglang.args['speculative-algorithm']).toBe('EAGLE');
  });

  it('measures under the workload as slo.load, with no gate', () => {
    const workload = { ...base.slo.load, concurrency: 48, requests: 96 };
    const spec = candidateSpec({ ...base, slo: { ...base.slo, enabled: true } }, { args: {}, modal: {} }, 1, workload);
    expect(spec.slo.load).toEqual(workload);
    expect(spec.slo.enabled).toBe(false);
  });

  it('serves requests at the guide’s latencies on the twin (timing.timeScale 1), start-up still scaled', () => {
    const spec = candidateSpec(base, { args: {}, modal: {} }, 1);
    expect(spec.local.emulator).toMatchObject({ timing: { timeScale: 1 } });
    expect(spec.local.timeScale).toBe(base.local.timeScale);
  });

  it('keeps a request time scale the spec sets itself (its own, or its image’s)', () => {
    const own = { ...base, local: { ...base.local, emulator: { timing: { timeScale: 0.2, ttftBaseMs: 9 } } } };
    expect(candidateSpec(own, { args: {}, modal: {} }, 1).local.emulator).toEqual({
      timing: { timeScale: 0.2, ttftBaseMs: 9 },
    });
    const perImage = {
      ...base,
      local: { ...base.local, images: { [base.sglang.image]: { emulator: { timing: { timeScale: 0.5 } } } } },
    };
    expect(candidateSpec(perImage, { args: {}, modal: {} }, 1).local.emulator).toEqual(perImage.local.emulator);
  });

  it('cuts a long app name so the trial app stays within 63 characters', () => {
    const long = 'a'.repeat(63);
    expect(trialAppName(long, 12)).toBe(`${'a'.repeat(59)}-t12`);
    expect(trialAppName(long, 12)).toHaveLength(63);
    expect(trialAppName('demo', 1)).toBe('demo-t1');
  });
});
