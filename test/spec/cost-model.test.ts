import { estimateMonthlyCost, UnknownGpuPriceError } from '../../src/spec/cost-model';
import { GPU_CATALOG, lookupGpu, resolveGpuPrice } from '../../src/spec/gpu-catalog';
import { loadExampleSpec } from '../helpers/test-spec';

describe('estimateMonthlyCost', () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it("lands near the guide §8 figures with the guide's assumptions", () => {
    const report = estimateMonthlyCost(spec, { env: {} });
    const byId = Object.fromEntries(report.strategies.map((strategy) => [strategy.id, strategy.dollarsPerMonth]));
    expect(byId['scale-to-zero']).toBeCloseTo(12_000, -2);
    expect(Math.abs(byId['business-hours-keep-alive']! - 18_000) / 18_000).toBeLessThan(0.05);
    expect(byId['always-on']).toBeCloseTo(36_000, -2);
    expect(report.dollarsPerReplicaHour).toBe(50);
    expect(report.priceSource).toBe('catalog');
  });

  it('derives keep-alive hours from the cron window and scaledown', () => {
    const narrow = estimateMonthlyCost(
      { ...spec, keepWarm: { ...spec.keepWarm, cron: '*/10 9-16 * * MON-FRI' } },
      { env: {} },
    );
    const keepAlive = narrow.strategies.find((s) => s.id === 'business-hours-keep-alive')!;
    // 09:00 → 16:50 + 15 min hold = 8.08 h × 5 days/week × 30/7 weeks.
    expect(keepAlive.replicaHoursPerMonth).toBeCloseTo(((8 * 60 + 5) / 60) * 5 * (30 / 7), 0);
  });

  it('takes the price from the spec, then the environment, then the catalog', () => {
    expect(
      estimateMonthlyCost(
        { ...spec, gpu: { ...spec.gpu, dollarsPerGpuHour: 5 } },
        { env: { GLM_OPS_GPU_PRICE_B200: '7' } },
      ).dollarsPerGpuHour,
    ).toBe(5);
    const fromEnv = estimateMonthlyCost(spec, { env: { GLM_OPS_GPU_PRICE_B200: '7' } });
    expect(fromEnv).toMatchObject({ dollarsPerGpuHour: 7, priceSource: 'env' });
    expect(() => resolveGpuPrice({ type: 'B200' }, { GLM_OPS_GPU_PRICE_B200: 'cheap' })).toThrow(
      /GLM_OPS_GPU_PRICE_B200/,
    );
    expect(() => estimateMonthlyCost({ ...spec, gpu: { type: 'A100X', count: 8 } }, { env: {} })).toThrow(
      UnknownGpuPriceError,
    );
  });

  it('scales with active hours, days and warm replicas', () => {
    const report = estimateMonthlyCost(
      { ...spec, modal: { ...spec.modal, minContainers: 2 } },
      { env: {}, activeHoursPerDay: 4, daysPerMonth: 31 },
    );
    expect(report.strategies[0]!.dollarsPerMonth).toBeCloseTo(4 * 31 * 50);
    expect(report.strategies[2]!.dollarsPerMonth).toBeCloseTo(24 * 31 * 50 * 2);
    expect(() => estimateMonthlyCost(spec, { env: {}, activeHoursPerDay: 25 })).toThrow(/activeHoursPerDay/);
  });
});

describe('GPU catalog', () => {
  it('holds the guide hardware with sources', () => {
    expect(lookupGpu('b200')).toMatchObject({ smArch: 'sm100', vramGB: 192, isBlackwell: true });
    expect(lookupGpu('H200')).toMatchObject({ smArch: 'sm90', vramGB: 141, recommendedMemFractionStatic: 0.83 });
    expect(lookupGpu('H100')).toMatchObject({ smArch: 'sm90', vramGB: 80 });
    expect(lookupGpu('constructor')).toBeUndefined();
    for (const gpu of Object.values(GPU_CATALOG)) expect(gpu.source.length).toBeGreaterThan(40);
    expect(GPU_CATALOG.B300!.source).toMatch(/ESTIMATE/);
  });
});
