import { trialEstimateSec } from '../../src/cli/tune-trial-estimate';
import { estimateStartup } from '../../src/spec/startup-estimate';
import { loadExampleSpec } from '../helpers/test-spec';

describe('the opening guess of one trial (priced before any trial has run)', () => {
  const spec = loadExampleSpec('examples/local-demo.yaml');
  const startup = estimateStartup({ ...spec, platform: 'modal' }).totalHighSeconds;

  it("is the guide's cold start plus the workload in rounds of its concurrency, on the twin as on Modal", () => {
    const workload = { ...spec.slo.load, concurrency: 48, requests: 96, warmupRequests: 0 };
    // Two rounds of 48, each 0.3 s + 32 tokens × 20 ms.
    expect(trialEstimateSec(spec, workload)).toBe(Math.ceil(startup + 2 * (0.3 + 32 * 0.02)));
    expect(trialEstimateSec({ ...spec, platform: 'modal' }, workload)).toBe(trialEstimateSec(spec, workload));
    // Minutes of start-up on 8×B200 (guide §7: 6–10 minutes), not the twin's scaled seconds.
    expect(startup).toBeGreaterThan(360);
  });

  it('paces a rate-limited load by its rate', () => {
    const workload = { ...spec.slo.load, concurrency: undefined, requestRate: 2, requests: 100, warmupRequests: 0 };
    expect(trialEstimateSec(spec, workload)).toBe(Math.ceil(startup + 50 + 0.3 + 32 * 0.02));
  });
});
