import { checkDeploySpec } from '../../../src/platforms/local/deploy-spec-check';
import { testSpec } from '../../helpers/test-spec';

describe('the local deploy check and a tune’s trial', () => {
  const aboveMax = testSpec('trial-app', (spec) => {
    spec.sglang.args['mem-fraction-static'] = 0.95;
  });

  it('refuses a spec that fails the guide’s lint (mem-fraction-static above 0.88) for a rollout', () => {
    expect(() => checkDeploySpec(aboveMax)).toThrow(/spec fails lint:[\s\S]*mem-fraction-static 0\.95 exceeds 0\.88/);
  });

  it('deploys it as a trial, which is there to measure what the lint predicts (the OOM)', () => {
    expect(checkDeploySpec(aboveMax, { isTrial: true }).sglang.args['mem-fraction-static']).toBe(0.95);
  });

  it('still refuses a trial the schema refuses, naming the field', () => {
    const broken = { ...aboveMax, modal: { ...aboveMax.modal, maxContainers: 0 } };
    expect(() => checkDeploySpec(broken, { isTrial: true })).toThrow(/spec is invalid[\s\S]*maxContainers/);
  });
});
